"""`nox.save`, `nox.load`, `nox.dumps`, `nox.loads`, `nox.inspect`.

Saving encodes the whole tree first (so an unsavable value fails before any file
is touched), then streams arrays into a temporary file that replaces the target
atomically. Loading reads the header, checks it, and only then reads arrays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import re
import socket
import stat
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar, cast, overload

import jax
import numpy as np
from jax.sharding import Mesh

from .._errors import ArgumentError, FormatError
from ._format import ArrayEntry, Header, is_key_array, key_shape, map_arrays, read_arrays, read_header, read_whole, write
from ._slices import read_sharded
from .._jaxapi import device_put, eval_shape, keystr, process_count, shape_dtype_struct, tree_flatten, tree_flatten_with_path, tree_leaves, wrap_key_data
from .._sharding import Rules, Specs, leaf_shardings
from ._npz import ZIP_MAGIC, read_npz, write_npz
from .._repr import dtype_shape
from .._static import is_array
from ._outline import outline, printable
from . import _tags as tags
from ._codec import NO_LIKE, SaveError, decode, encode, stack_room

__all__ = ["save", "load", "dumps", "loads", "inspect", "FileInfo"]

T = TypeVar("T")
PathLike = str | os.PathLike[str]
_TEMP_SUFFIX = ".noxtmp"
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:64] or "host"


# --------------------------------------------------------------------- saving


def _encode_local(obj: Any, metadata: Any) -> tuple[Any, list[tuple[str, Any]], Any]:
    """`encode_all` for a file this process writes alone: every array must be here."""
    tree, arrays, meta = encode_all(obj, metadata)
    for path, x in arrays if process_count() > 1 else ():  # with one process, every array is here
        if not getattr(x, "is_fully_addressable", True):
            raise SaveError(
                f"cannot save {path or 'the root'}: its shards live in several processes, and this process "
                f"holds only its own; save multi-process models with noxjax.orbax.save (or orbax's "
                f"CheckpointManager with noxjax.orbax.Save)"
            )
    return tree, arrays, meta


def encode_all(obj: Any, metadata: Any) -> tuple[Any, list[tuple[str, Any]], Any]:
    """The header tree, the (path, array) list and the metadata node of `obj`."""
    tree, arrays, notes = encode(obj)
    meta, meta_arrays, _ = encode(metadata)
    if meta_arrays:
        raise SaveError(f"metadata must be JSON-like; it holds an array at {meta_arrays[0][0] or 'the root'}")
    for note in dict.fromkeys(notes):
        warnings.warn(note, stacklevel=4)
    return tree, arrays, meta


def save(path: PathLike | IO[bytes], obj: Any, *, metadata: Any = None) -> None:
    """Write `obj` (a module or any tree of modules, containers, arrays and JSON-like
    data) to `path`, atomically: a crash mid-save leaves the previous file intact.

    A path ending in `.npz` writes a NumPy archive; anything else the native format.
    `path` may also be a binary file object opened for writing: the native format is
    written at its position, not atomically. `metadata` is JSON-like data stored in
    the header (see `nox.inspect`).

    Raises `nox.SaveError` (naming the key path) for anything `nox.load` could not
    read, before any file is touched.

    Examples:
        >>> import io, jax.numpy as jnp, noxjax as nox
        >>> buffer = io.BytesIO()
        >>> nox.save(buffer, {"w": jnp.ones(2), "step": 3})
        >>> nox.load(io.BytesIO(buffer.getvalue()))["step"]
        3
    """
    tree, arrays, meta = _encode_local(obj, metadata)
    if not isinstance(path, (str, os.PathLike)):
        _write_to(path, lambda f: write(f, tree, arrays, meta))
        return
    name = os.fspath(path)
    writer = write_npz if name.endswith(".npz") else write
    _atomic_write(name, lambda f: writer(f, tree, arrays, meta))


def _write_to(f: IO[bytes], fill: Callable[[IO[bytes]], None]) -> None:
    """Write to a file object; the format's offsets start at 0, so a file that is not
    at its start (or cannot seek) gets the bytes in one write."""
    if f.seekable() and f.tell() == 0:
        fill(f)
        return
    buffer = io.BytesIO()
    fill(buffer)
    f.write(buffer.getbuffer())


def dumps(obj: Any, *, metadata: Any = None) -> bytes:
    """The native-format bytes of `obj`.

    Raises `nox.SaveError` as `nox.save` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> data = nox.dumps({"w": jnp.ones(2)})
        >>> data[:6], nox.loads(data)["w"]
        (b'NOXJAX', Array([1., 1.], dtype=float32))
    """
    tree, arrays, meta = _encode_local(obj, metadata)
    buffer = io.BytesIO()
    write(buffer, tree, arrays, meta)
    return buffer.getvalue()


def _atomic_write(path: str, fill: Callable[[IO[bytes]], None]) -> None:
    """Write through a temp file renamed over `path`. A symlink is followed: its
    target is replaced, the link stays. An existing file keeps its permission bits."""
    directory, base = os.path.split(os.path.realpath(path))
    _remove_dead_temps(directory, base)
    temp = os.path.join(directory, f".{base}.{_HOST}.{os.getpid()}.{os.urandom(4).hex()}{_TEMP_SUFFIX}")
    try:
        with open(temp, "x+b", buffering=0) as f:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(f.fileno(), stat.S_IMODE(os.stat(os.path.join(directory, base)).st_mode))
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, os.path.join(directory, base))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_dead_temps(directory: str, base: str) -> None:
    """Remove temp files of `base` that a process of this host which has since died
    left behind (another host's temp files, on a shared disk, are never touched)."""
    pattern = re.compile(rf"^\.{re.escape(base)}\.{re.escape(_HOST)}\.(\d+)\.[0-9a-f]+{re.escape(_TEMP_SUFFIX)}$")
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            match = pattern.match(name)
            if match and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


# --------------------------------------------------------------------- loading


@overload
def load(
    path: PathLike | IO[bytes], *, like: T, mesh: Mesh | None = None, rules: Rules | None = None,
    specs: Specs | None = None, mmap: bool = False, verify: bool | None = None,
) -> T: ...
@overload
def load(
    path: PathLike | IO[bytes], *, like: None = None, mesh: Mesh | None = None, rules: Rules | None = None,
    specs: Specs | None = None, mmap: bool = False, verify: bool | None = None,
) -> Any: ...
def load(
    path: PathLike | IO[bytes], *, like: Any = None, mesh: Mesh | None = None, rules: Rules | None = None,
    specs: Specs | None = None, mmap: bool = False, verify: bool | None = None,
) -> Any:
    """Read what `nox.save` wrote. Never imports, unpickles or evaluates anything.

    Module classes and functions must already be imported. Arrays come back as
    `jax.Array`s on the default device, or placed like the leaves of `like=` (real
    arrays or `jax.ShapeDtypeStruct`s, whose structure, shapes and dtypes are
    checked). With `mesh=`, arrays are placed with `nox.shardings(tree, mesh, rules,
    specs)` instead. A sharded array is read slice by slice from a file path, each
    device reading only the rows it holds, so host memory stays near one array.
    Arrays JAX cannot hold in this configuration (float64 without x64)
    come back as read-only numpy arrays. `mmap=True` returns read-only numpy arrays
    backed by a map of the file; it checks checksums only with `verify=True`.
    `path` may also be a binary file object (read from its position; no `mmap`).

    Raises `nox.FormatError` for anything but a well-formed file, naming the key
    path or byte offset; nothing is built from a file that fails a check.
    `nox.ShardingError` if `rules`/`specs` do not fit the arrays or the mesh.

    Examples:
        >>> import os, tempfile, jax.numpy as jnp, noxjax as nox
        >>> path = os.path.join(tempfile.mkdtemp(), "m.nox")
        >>> nox.save(path, {"w": jnp.ones(2), "step": 3})
        >>> nox.load(path)
        {'w': Array([1., 1.], dtype=float32), 'step': 3}
    """
    placement = None if mesh is None else Placement(mesh, rules, specs)
    if not isinstance(path, (str, os.PathLike)):
        if mmap:
            raise ArgumentError("nox.load: mmap=True needs a path, not a file object")
        return _load_from(_readable(path), like, verify, getattr(path, "name", "the file object"), placement)
    name = os.fspath(path)
    with open(name, "rb") as f:
        if mmap and f.read(4) != ZIP_MAGIC:
            if placement is not None:
                raise ArgumentError("nox.load: mmap=True returns numpy arrays on the host; it takes no mesh=")
            header = read_header(f, os.fstat(f.fileno()).st_size, name)
            return _build(header, map_arrays(f.fileno(), header, verify is True, name), like, on_device=False, name=name)
        return _load_from(f, like, verify, name, placement, slices=True)


@dataclass(frozen=True)
class Placement:
    mesh: Mesh
    rules: Rules | None
    specs: Specs | None

    def shardings(self, tree: Any) -> list[Any]:
        return [sharding for _, sharding in leaf_shardings(tree, self.mesh, self.rules, self.specs)[0]]


def _readable(f: IO[bytes]) -> IO[bytes]:
    """`f` itself if it is seekable and at its start (the format's offsets are
    absolute), else its remaining bytes in memory."""
    if f.seekable() and f.tell() == 0:
        return f
    return io.BytesIO(f.read())


def _load_from(f: IO[bytes], like: Any, verify: bool | None, name: str, placement: Placement | None = None,
               slices: bool = False) -> Any:
    """Load from the start of `f`. With `slices` (a real file), sharded arrays are
    read slice by slice; otherwise every array is read, then placed."""
    f.seek(0)
    if f.read(4) == ZIP_MAGIC:
        f.seek(0)
        header, hosts = read_npz(f, name)
    else:
        header = read_header(f, f.seek(0, os.SEEK_END), name)
        if slices and (placement is not None or _sharded(like)):
            return _build_sliced(f, header, like, placement, verify is not False, name)
        hosts = list(read_arrays(f, header, verify is not False, name))
    if placement is None:
        return _build(header, hosts, like, on_device=True, name=name)
    obj = _build(header, hosts, like, on_device=False, name=name)
    leaves, treedef = tree_flatten(obj)
    return treedef.unflatten(_placed(leaves, placement.shardings(obj)))


def _sharded(like: Any) -> bool:
    """Whether any leaf of `like` asks for a sharding beyond one device."""
    return any(
        isinstance(getattr(x, "sharding", None), jax.sharding.Sharding) and len(x.sharding.device_set) > 1
        for x in tree_leaves(like)
    )


def _build_sliced(f: IO[bytes], header: Header, like: Any, placement: Placement | None, verify: bool, name: str) -> Any:
    """Read each array of a native file with its target sharding, slice by slice."""

    def read(requests: list[tuple[ArrayEntry, Any]]) -> list[Any]:
        return [
            read_whole(f, entry, verify, name) if target is None else read_sharded(f, entry, target, verify, name)
            for entry, target in requests
        ]

    return build_placed(header.tree, header.arrays, like, placement, read, name)


Reader = Callable[[list[tuple[ArrayEntry, Any]]], list[Any]]


def build_placed(tree: Any, entries: Sequence[ArrayEntry], like: Any, placement: Placement | None, read: Reader, name: str) -> Any:
    """Decode `tree` with stand-ins for its arrays, find each array's target sharding
    (from `placement`, else `like=`), then get them all with one `read` call.

    `read` gets (entry, sharding) pairs and returns, per pair, the array placed with
    that sharding, or, where the sharding is None, the host array (PRNG keys as
    their key data), which goes to the default device here.
    """
    stand_ins = [_stand_in(e) for e in entries]
    with stack_room():
        obj = decode(tree, stand_ins, like=NO_LIKE if like is None else like)
    leaves, treedef = tree_flatten(obj) if like is None else _matched(obj, like, name)
    if placement is not None:
        targets = placement.shardings(obj)
    else:
        targets = [getattr(x, "sharding", None) for x in tree_leaves(like)] if like is not None else [None] * len(leaves)
    where = {id(x): i for i, x in enumerate(stand_ins)}
    holds = _jax_holds()
    slots: list[tuple[int, ArrayEntry, Any]] = []  # (leaf position, entry, target)
    for i, (leaf, target) in enumerate(zip(leaves, targets)):
        j = where.get(id(leaf))
        if j is not None:
            entry = entries[j]
            slots.append((i, entry, target if entry.key_impl is None and holds(entry.dtype) else None))
    got = read([(entry, target) for _, entry, target in slots])
    raw = [k for k, (_, _, target) in enumerate(slots) if target is None]
    for k, array in zip(raw, _leaves([slots[k][1] for k in raw], [got[k] for k in raw], True)):
        got[k] = array  # on the default device, PRNG keys wrapped
    out = list(leaves)
    for (i, _, _), array in zip(slots, got):
        out[i] = array
    placed = {i for i, _, target in slots if target is not None}
    rest = [i for i, target in enumerate(targets) if target is not None and i not in placed]
    for i, array in zip(rest, _placed([out[i] for i in rest], [targets[i] for i in rest])):
        out[i] = array
    return treedef.unflatten(out)


def _stand_in(entry: ArrayEntry) -> Any:
    """An abstract array of `entry`'s shape and dtype (for PRNG keys, the key array's)."""
    data = shape_dtype_struct(entry.shape, entry.dtype)
    return data if entry.key_impl is None else eval_shape(functools.partial(_wrap_keys, entry), data)


def _placed(leaves: list[Any], targets: Sequence[Any]) -> list[Any]:
    """`leaves` with every array JAX holds moved to its target (None: the default device)."""
    holds = _jax_holds()
    arrays = [i for i, x in enumerate(leaves) if is_key_array(x) or (is_array(x) and holds(np.dtype(x.dtype)))]
    out = list(leaves)
    for i, x in zip(arrays, device_put([leaves[i] for i in arrays], [targets[i] for i in arrays]) if arrays else []):
        out[i] = x
    return out


def loads(data: bytes | bytearray | memoryview, *, like: Any = None, verify: bool = True) -> Any:
    """Read the bytes that `nox.dumps` returned, without copying them first.

    Raises `nox.FormatError` as `nox.load` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.loads(nox.dumps((jnp.zeros(2), "adam")))[1]
        'adam'
    """
    return _load_from(io.BufferedReader(_Bytes(memoryview(data).cast("B"))), like, verify, "the data")


class _Bytes(io.RawIOBase):
    """A read-only file over a buffer that copies only the bytes asked for."""

    def __init__(self, data: memoryview) -> None:
        super().__init__()
        self.data, self.position = data, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self.position = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: len(self.data)}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        chunk = self.data[self.position : self.position + memoryview(buffer).nbytes]
        memoryview(buffer).cast("B")[: len(chunk)] = chunk
        self.position += len(chunk)
        return len(chunk)


def _build(header: Header, hosts: list[np.ndarray[Any, Any]], like: Any, on_device: bool, name: str) -> Any:
    leaves = _leaves(header.arrays, hosts, on_device and like is None)
    with stack_room():
        obj = decode(header.tree, leaves, like=NO_LIKE if like is None else like)
    return obj if like is None else _place_like(obj, like, name)


def _leaves(entries: Sequence[ArrayEntry], hosts: list[np.ndarray[Any, Any]], to_device: bool) -> list[Any]:
    """The arrays the tree refers to: PRNG keys always, and with `to_device` every
    array JAX can hold, go to the device in one batched `device_put`."""
    holds = _jax_holds() if to_device else _never_holds
    moved: list[int] = []
    for i, (entry, host) in enumerate(zip(entries, hosts)):  # every reader returns read-only arrays
        if entry.key_impl is not None or holds(host.dtype):
            moved.append(i)
    leaves: list[Any] = list(hosts)
    for i, placed in zip(moved, device_put([hosts[i] for i in moved]) if moved else []):
        leaves[i] = placed if entries[i].key_impl is None else _wrap_keys(entries[i], placed)
    return leaves


def _never_holds(dtype: np.dtype[Any]) -> bool:
    return False


def _jax_holds() -> Callable[[np.dtype[Any]], bool]:
    """Whether JAX, as configured, holds arrays of a dtype exactly (float64 needs x64;
    a narrow type this jaxlib lacks is kept on the host)."""
    return _X64_HOLDS if jax.dtypes.canonicalize_dtype(np.float64) == np.float64 else _X32_HOLDS


@functools.lru_cache(maxsize=None)
def _holds(dtype: np.dtype[Any], x64: bool) -> bool:
    try:
        return jax.dtypes.canonicalize_dtype(dtype) == dtype and device_put(np.zeros(0, dtype)).dtype == dtype
    except (TypeError, ValueError, RuntimeError):
        return False


_X64_HOLDS = functools.partial(_holds, x64=True)
_X32_HOLDS = functools.partial(_holds, x64=False)


def _wrap_keys(entry: ArrayEntry, data: Any) -> Any:
    try:
        return wrap_key_data(data, impl=entry.key_impl)
    except (ValueError, TypeError, KeyError) as e:
        raise FormatError(f"array {entry.path!r}: cannot rebuild PRNG keys of impl {entry.key_impl!r}: {e}") from None


def _place_like(obj: Any, like: Any, name: str) -> Any:
    leaves, treedef = _matched(obj, like, name)
    return treedef.unflatten(_placed(leaves, [getattr(x, "sharding", None) for x in tree_leaves(like)]))


def _matched(obj: Any, like: Any, name: str) -> tuple[list[Any], Any]:
    """The leaves and treedef of `obj`, checked against `like` path by path."""
    try:
        loaded, treedef = tree_flatten_with_path(obj)
    except (TypeError, ValueError) as e:  # a dict whose keys mix str and int cannot be sorted
        raise FormatError(f"{name} holds a tree JAX cannot flatten, so it cannot match like=: {e}") from None
    wanted, _ = tree_flatten_with_path(like)
    paths = [keystr(p) for p, _ in loaded]
    _check_paths(paths, [keystr(p) for p, _ in wanted], name)
    return [_checked(x, t, p, name) for p, (_, x), (_, t) in zip(paths, loaded, wanted)], treedef


def _check_paths(got: Sequence[str], expected: Sequence[str], name: str) -> None:
    if got == expected:
        return
    i = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    in_file = got[i] if i < len(got) else "nothing (the file has fewer leaves)"
    in_like = expected[i] if i < len(expected) else "nothing (like= has fewer leaves)"
    raise FormatError(f"{name} does not match like=: leaf {i} is {in_file} in the file but {in_like} in like=")


def _checked(x: Any, target: Any, path: str, name: str) -> Any:
    if not is_array(x):  # an int step, a static=False float: the value comes from the file
        if is_array(target) or type(x) is not type(target):
            raise FormatError(
                f"{name} does not match like= at {path or 'the root'}: the file has "
                f"{type(x).__name__} {x!r}, like= has {type(target).__name__}"
            )
        return x
    shape, dtype = tuple(getattr(target, "shape", ())), getattr(target, "dtype", None)
    if tuple(x.shape) != shape or dtype is None or x.dtype != dtype:  # PRNG key dtypes are not numpy's
        raise FormatError(
            f"{name} does not match like= at {path or 'the root'}: the file has "
            f"{x.dtype}{list(x.shape)}, like= has {dtype}{list(shape)}"
        )
    return x


# --------------------------------------------------------------------- inspecting


@dataclass(frozen=True)
class FileInfo:
    """What `nox.inspect` reads from a file's header (no array data is read).

    Examples:
        >>> import os, tempfile, jax.numpy as jnp, noxjax as nox
        >>> path = os.path.join(tempfile.mkdtemp(), "m.nox")
        >>> nox.save(path, {"w": jnp.ones((2, 3))})
        >>> info = nox.inspect(path)
        >>> info.arrays, info.nbytes
        ([("['w']", 'float32', (2, 3), 24)], 24)
    """

    path: str
    version: int
    arrays: list[tuple[str, str, tuple[int, ...], int]]  # (path, dtype, shape, bytes)
    metadata: Any
    classes: list[str]
    header_tree: Any = dataclasses.field(repr=False)

    @functools.cached_property
    def tree(self) -> str:
        """The saved object, rendered from the header without loading anything."""
        labels = [
            f"{dtype}[{','.join(map(str, shape))}]" if dtype.startswith("key<") else dtype_shape(np.dtype(dtype), shape)
            for _, dtype, shape, _ in self.arrays
        ]
        with stack_room():
            return outline(self.header_tree, labels)

    @property
    def nbytes(self) -> int:
        return sum(a[3] for a in self.arrays)

    def __str__(self) -> str:
        width = max((len(printable(p)) for p, *_ in self.arrays), default=4)
        lines = [f"{self.path}: noxjax format {self.version}, {len(self.arrays)} arrays, {_size(self.nbytes)}"]
        if self.classes:
            lines.append(f"classes: {', '.join(map(printable, self.classes))}")
        if self.metadata is not None:
            lines.append(f"metadata: {self.metadata!r}")
        lines.append(self.tree)
        kinds = max([14] + [len(dtype) for _, dtype, *_ in self.arrays])
        lines.append(f"{'path'.ljust(width)}  {'dtype'.ljust(kinds)} {'shape':<20} {'size':>10}")
        for path, dtype, shape, nbytes in self.arrays:
            lines.append(f"{printable(path or '<root>').ljust(width)}  {dtype.ljust(kinds)} {str(list(shape)):<20} {_size(nbytes):>10}")
        return "\n".join(lines)


def _size(nbytes: int) -> str:
    if nbytes < 1024:
        return f"{nbytes} B"
    size = float(nbytes)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"


def inspect(path: PathLike) -> FileInfo:
    """The tree, shapes, dtypes and sizes in a file, from its header alone.

    Raises `nox.FormatError` for a file that is not a valid checkpoint (the header
    is checked as `nox.load` checks it).

    Examples:
        >>> import os, tempfile, jax.numpy as jnp, noxjax as nox
        >>> path = os.path.join(tempfile.mkdtemp(), "m.nox")
        >>> nox.save(path, {"w": jnp.ones((2, 3))}, metadata={"step": 3})
        >>> nox.inspect(path).metadata
        {'step': 3}
    """
    name = os.fspath(path)
    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if f.read(4) == ZIP_MAGIC:
            f.seek(0)
            header, _ = read_npz(f, name, with_data=False)
        else:
            header = read_header(f, size, name)
    arrays = [
        (e.path, f"key<{e.key_impl}>", key_shape(e.key_impl, e.shape), e.nbytes) if e.key_impl else (e.path, str(e.dtype), e.shape, e.nbytes)
        for e in header.arrays
    ]
    with stack_room():
        metadata = decode(header.metadata, [])
    return FileInfo(name, header.version, arrays, metadata, sorted(_classes(header.tree)), header.tree)


def _classes(node: object) -> set[str]:
    """Names of the module classes a header tree mentions."""
    found: set[str] = set()
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            fields = cast("dict[str, object]", x)
            name = fields.get("c")
            if fields.get("t") in (tags.MODULE, tags.METHOD) and isinstance(name, str):
                found.add(name)
            stack.extend(fields.values())
        elif isinstance(x, list):
            stack.extend(cast("list[object]", x))
    return found

