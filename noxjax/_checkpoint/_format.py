"""The native file format: header first, then 64-byte-aligned raw arrays.

    offset 0   b"NOXJAX\\0"     magic, 7 bytes
    offset 7   u16              format version
    offset 9   u64              header length H
    offset 17  H bytes          msgpack header
    17 + H     u32              crc32 of the header
    ...        zero padding to a multiple of 64
    arrays     raw little-endian bytes, each at an absolute offset aligned to 64

All integers are little-endian. `docs/format.md` specifies every header key.
Reading validates every length and offset against the file size before it
allocates or reads, so a hostile file yields a `FormatError`, never a crash or a
huge allocation.
"""

from __future__ import annotations

import bisect
import functools
import io
import itertools
import math
import mmap
import os
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, NamedTuple, cast

import jax
import jax.numpy as jnp
import ml_dtypes
import msgpack  # type: ignore[import-untyped]  # pyright: ignore[reportMissingTypeStubs]
import numpy as np
from typing_extensions import Buffer

from ._checksum import CHUNK, INLINE, Checksum, crc32
from .._errors import FormatError

__all__ = [
    "MAGIC",
    "VERSION",
    "NUMPY_DTYPE_NAMES",
    "ArrayEntry",
    "Header",
    "write",
    "read_header",
    "read_arrays",
    "map_arrays",
    "dtype_from_name",
    "host_array",
    "key_shape",
    "stored_entries",
    "unpack_header",
    "pack_body",
    "header_map",
    "aligned_buffer",
    "read_into",
    "truncated",
    "check_crc",
    "read_whole",
]

MAGIC = b"NOXJAX\0"
VERSION = 1
ALIGN = 64
_PREFIX = struct.Struct("<7sHQ")
_CRC = struct.Struct("<I")
_CRC_PLACEHOLDER = b"\0\0\0\0"
_IOV_MAX = 1024  # buffers per os.writev (Linux and macOS limit)
_BATCH = 1 << 20  # bytes per os.writev

_packb = cast(Callable[..., bytes], msgpack.packb)  # pyright: ignore[reportUnknownMemberType]
_Packer = cast(Callable[..., Any], msgpack.Packer)  # pyright: ignore[reportUnknownMemberType]
_unpackb = cast(Callable[..., Any], msgpack.unpackb)  # pyright: ignore[reportUnknownMemberType]


_LITTLE = sys.byteorder == "little"
_MAX_DIM = 2**48  # no real array dimension is larger; a zero-size array may not claim one


def _dtype_name(t: Any) -> str:
    return str(np.dtype(t))


NUMPY_DTYPE_NAMES = frozenset(
    _dtype_name(t)
    for t in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64", "complex64", "complex128",
    )
)
_DTYPE_NAMES = NUMPY_DTYPE_NAMES | frozenset(
    _dtype_name(getattr(ml_dtypes, name))
    for name in dir(ml_dtypes)
    if name.startswith(("bfloat", "float", "int", "uint")) and isinstance(getattr(ml_dtypes, name), type)
)


def unsavable_dtype(x: Any) -> str | None:
    """Why the array `x` cannot be stored (its dtype is not one the reader accepts), or None."""
    dtype: Any = x.dtype
    if dtype in _SAVABLE:  # the hot path: one dict lookup per array
        return None
    if is_key_array(x):
        return None
    why = _unsavable(np.dtype(dtype))
    if why is None:
        _SAVABLE[dtype] = True
    return why


_SAVABLE: dict[Any, bool] = {}


def _unsavable(dtype: np.dtype[Any]) -> str | None:
    if str(dtype) in _DTYPE_NAMES:
        return None
    if dtype.byteorder == ">" or (dtype.byteorder == "<" and not _LITTLE):
        return f"its dtype {dtype} is big-endian; convert it with x.astype(x.dtype.newbyteorder('<'))"
    if dtype == jax.dtypes.float0:
        return "it is a float0 array (the gradient of an int or bool leaf), which has no values; leave it out"
    return (
        f"its dtype {dtype} is not one a file holds (bool, ints, floats and complex up to 64 bits and "
        f"ml_dtypes' narrow types); convert it, e.g. x.astype(np.float32), or leave it out"
    )


_DTYPES: dict[str, np.dtype[Any]] = {name: np.dtype(name) for name in _DTYPE_NAMES}


def dtype_from_name(name: Any, where: str = "") -> np.dtype[Any]:
    """The numpy dtype called `name`, from a fixed list; FormatError otherwise."""
    dtype = _DTYPES.get(name) if type(name) is str else None
    if dtype is None:
        raise FormatError(f"unknown dtype {name!r}{f' at {where}' if where else ''}; known: {sorted(_DTYPE_NAMES)}")
    return dtype


class ArrayEntry(NamedTuple):
    """One array of a file, validated (a tuple: made once per array on every load)."""

    path: str
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    offset: int
    nbytes: int
    crc32: bytes
    key_impl: str | None = None  # PRNG key arrays: the data is stored, this names the impl

    def describe(self) -> dict[str, Any]:
        """The header map of this entry (docs/format.md)."""
        entry: dict[str, Any] = {
            "path": self.path,
            "dtype": dtype_name(self.dtype),
            "shape": list(self.shape),
            "offset": self.offset,
            "nbytes": self.nbytes,
        }
        if self.key_impl is not None:
            entry["key_impl"] = self.key_impl
        entry["crc32"] = self.crc32  # last: the writer patches these 4 bytes in place
        return entry


@functools.lru_cache(maxsize=None)
def dtype_name(dtype: np.dtype[Any]) -> str:
    return str(dtype)


@dataclass(frozen=True)
class Header:
    version: int
    tree: Any
    arrays: list[ArrayEntry]
    metadata: Any
    data_start: int
    file_size: int


# --------------------------------------------------------------------- writing


def is_key_array(x: Any) -> bool:
    """Whether `x` is an array of typed PRNG keys (stored as its uint32 key data)."""
    dtype: Any = getattr(x, "dtype", None)
    return dtype is not None and not isinstance(dtype, np.dtype) and bool(jnp.issubdtype(dtype, jax.dtypes.prng_key))


def _key_impl(x: Any) -> str:
    spec = jax.random.key_impl(x)
    return str(getattr(getattr(spec, "_impl", None), "name", None) or spec)


def key_shape(key_impl: str, data_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of the keys whose stored key data has `data_shape`: one key of a
    JAX impl takes trailing dimensions. `data_shape` itself for any other impl name
    (a file's name is looked up in a table, never passed to JAX)."""
    ndim = _key_ndims().get(key_impl)
    return data_shape if ndim is None else data_shape[: max(0, len(data_shape) - ndim)]


@functools.cache
def _key_ndims() -> dict[str, int]:
    from jax.extend import random as impls

    builtin: list[Any] = [impls.threefry_prng_impl, impls.rbg_prng_impl, impls.unsafe_rbg_prng_impl]
    return {str(impl.name): len(impl.key_shape) for impl in builtin}


def host_array(x: Any, key: bool) -> np.ndarray[Any, Any]:
    """A C-contiguous host view (on CPU) or copy of `x`; with `key` (PRNG keys, see
    `stored_entries`), of its key data."""
    if key:
        x = jax.random.key_data(x)
    host: np.ndarray[Any, Any] = np.asarray(x)
    return host if host.flags.c_contiguous else np.array(host, order="C")


def stored_entries(arrays: list[tuple[str, Any]]) -> list[ArrayEntry]:
    """How each (path, array) is stored: dtype, shape, byte length and PRNG impl (a
    key array is stored as its uint32 key data); the offset and checksum are filled
    in by the writer."""
    out: list[ArrayEntry] = []
    for path, x in arrays:
        if is_key_array(x):
            dtype, shape, key_impl = _UINT32, tuple(jax.random.key_data(x).shape), _key_impl(x)
        else:
            dtype, shape, key_impl = np.dtype(x.dtype), tuple(x.shape), None
        out.append(ArrayEntry(path, dtype, shape, 0, math.prod(shape) * dtype.itemsize, _CRC_PLACEHOLDER, key_impl))
    return out


_UINT32 = np.dtype(np.uint32)


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def pack_body(body: dict[str, Any]) -> bytes:
    return _packb(body, use_bin_type=True)


class _Header:
    """The header packed around its array offsets, which depend on its own length.

    Each entry is packed as the bytes before its offset value and the bytes after
    it (ending in the 4 placeholder bytes of its crc32: "crc32" is the last key);
    `layout()` finds the data start and offsets, `at(offsets)` joins the pieces.
    """

    def __init__(self, tree: Any, entries: list[ArrayEntry], metadata: Any):
        packer = _Packer(use_bin_type=True)  # one: each packer holds a 256 KB buffer
        pack = packer.pack
        self.head = b"".join((b"\x83", pack("tree"), pack(tree), pack("arrays"), packer.pack_array_header(len(entries))))
        self.tail = pack("metadata") + pack(metadata)
        self.before: list[bytes] = []
        self.after: list[bytes] = []
        for path, dtype, shape, _, nbytes, _, key_impl in entries:
            self.before.append(
                b"".join((_ENTRY_START[key_impl is not None], pack(path), _DTYPE_KEY, pack(dtype_name(dtype)),
                          _SHAPE_KEY, pack(list(shape)), _OFFSET_KEY))
            )
            key = b"" if key_impl is None else _KEY_IMPL_KEY + pack(key_impl)
            self.after.append(b"".join((_NBYTES_KEY, pack(nbytes), key, _CRC32_KEY, _CRC_PLACEHOLDER)))
        self.fixed = len(self.head) + len(self.tail) + sum(map(len, self.before)) + sum(map(len, self.after))
        self.steps = list(itertools.accumulate((_align(entry.nbytes) for entry in entries), initial=0))[:-1]

    def offsets(self, data_start: int) -> list[int]:
        return [data_start + step for step in self.steps]

    def offset_bytes(self, data_start: int) -> int:
        """The bytes msgpack takes for all the offsets from `data_start`: each takes
        1, 2, 3, 5 or 9 as it reaches 0x80, 0x100, 0x10000 and 2**32 (steps ascend)."""
        total = n = len(self.steps)
        for bound, more in _INT_WIDTH_STEPS:
            total += more * (n - bisect.bisect_left(self.steps, bound - data_start))
        return total

    def layout(self) -> tuple[int, list[int]]:
        """The smallest data start the header fits before, and the offsets from it."""
        data_start = _align(_PREFIX.size + self.fixed + _CRC.size)
        while True:
            needed = _align(_PREFIX.size + self.fixed + self.offset_bytes(data_start) + _CRC.size)
            if needed <= data_start:
                return data_start, self.offsets(data_start)
            data_start = needed

    def at(self, offsets: list[int]) -> tuple[bytearray, list[int]]:
        """The header with these offsets, and the positions of the crc32 placeholders."""
        parts, end = [self.head], len(self.head)
        crcs: list[int] = []
        pack: Callable[[int], bytes] = _Packer().pack  # one: each packer holds a 256 KB buffer
        for before, offset, after in zip(self.before, map(pack, offsets), self.after):
            parts += (before, offset, after)
            end += len(before) + len(offset) + len(after)
            crcs.append(end - _CRC.size)
        parts.append(self.tail)
        return bytearray().join(parts), crcs


_ENTRY_START = (b"\x86\xa4path", b"\x87\xa4path")  # a map of 6 keys (7 with key_impl), then the first key
_DTYPE_KEY, _SHAPE_KEY, _OFFSET_KEY, _NBYTES_KEY, _KEY_IMPL_KEY = map(_packb, ("dtype", "shape", "offset", "nbytes", "key_impl"))
_CRC32_KEY = _packb("crc32") + b"\xc4\x04"  # the key and a bin 8 header of 4 bytes
_INT_WIDTH_STEPS = ((0x80, 1), (0x100, 1), (0x10000, 2), (2**32, 4))  # from these, msgpack ints take more bytes


def _write_all(f: IO[bytes], data: Buffer) -> None:
    view = memoryview(data)
    view = view.cast("B") if view.nbytes else memoryview(b"")  # file objects expect flat bytes
    written = f.write(view) or 0
    while written < view.nbytes:  # a short write (None: nothing written yet): finish it
        view = view[written:]
        written = f.write(view) or 0


def _writer(f: IO[bytes]) -> Callable[[list[Buffer], int], None]:
    """A function handing a batch of buffers (and their total length) to the OS:
    `os.writev` on an unbuffered file (no copy, one syscall), else one write of a
    small batch joined, or a write per buffer of a large one."""
    if isinstance(f, io.FileIO) and hasattr(os, "writev"):
        return functools.partial(_writev_all, f.fileno())

    def write(batch: list[Buffer], nbytes: int) -> None:
        for data in [b"".join(batch)] if nbytes <= _BATCH else batch:
            _write_all(f, data)

    return write


def _writev_all(fd: int, buffers: list[Buffer], nbytes: int) -> None:
    written = os.writev(fd, buffers)
    if written < nbytes:  # a short write: the rest, one write at a time
        rest = memoryview(b"".join(buffers))[written:]
        while rest.nbytes:
            rest = rest[os.write(fd, rest) :]


def write(f: IO[bytes], tree: Any, arrays: list[tuple[str, Any]], metadata: Any) -> None:
    """Stream a checkpoint into the seekable binary file `f`, a batch of arrays at a time.

    The header goes first with placeholder checksums, the arrays follow, and the
    checksums are patched into the header, which is rewritten in place.
    """
    entries = stored_entries(arrays)
    template = _Header(tree, entries, metadata)
    data_start, offsets = template.layout()
    header, crc_positions = template.at(offsets)
    prefix = _PREFIX.pack(MAGIC, VERSION, len(header))
    checksums: list[Checksum | int] = []
    out = _writer(f)
    batch: list[Buffer] = [prefix, header, _CRC_PLACEHOLDER + bytes(data_start - len(prefix) - len(header) - _CRC.size)]
    position, batch_start = data_start, 0
    for offset, (_, x), entry in zip(offsets, arrays, entries):
        data = _bytes_of(host_array(x, entry.key_impl is not None))
        if offset > position:
            batch.append(_ZEROS[: offset - position])
        checksums.append(_checksum(data, entry.nbytes))  # large arrays: on worker threads while this one writes
        batch.append(data)
        position = offset + entry.nbytes
        if position - batch_start >= _BATCH or len(batch) >= _IOV_MAX - 1:
            out(batch, position - batch_start)
            batch, batch_start = [], position
    batch.append(_ZEROS[: _align(position) - position])
    out(batch, _align(position) - batch_start)
    for at, checksum in zip(crc_positions, checksums):
        header[at : at + _CRC.size] = _CRC.pack(checksum if isinstance(checksum, int) else checksum.value())
    f.seek(0)
    _write_all(f, prefix + header + _CRC.pack(crc32(header)))
    f.seek(0, io.SEEK_END)


_ZEROS = bytes(ALIGN)


# --------------------------------------------------------------------- reading


def read_header(f: IO[bytes], size: int, name: str = "the file") -> Header:
    """Parse and validate the header; every offset is checked against `size`."""
    if size < _PREFIX.size + _CRC.size:
        raise FormatError(f"{name} is {size} bytes, too short for a noxjax file (at least 21)")
    f.seek(0)
    magic, version, length = _PREFIX.unpack(_read_exact(f, _PREFIX.size, 0, name))
    if magic != MAGIC:
        raise FormatError(f"{name} is not a noxjax file: it starts with {magic!r}, not {MAGIC!r}")
    if version > VERSION:
        raise FormatError(f"{name} has format version {version}, newer than this noxjax reads ({VERSION}); upgrade noxjax")
    if version < 1:
        raise FormatError(f"{name} has an invalid format version {version} at offset 7")
    if length > size - _PREFIX.size - _CRC.size:
        raise FormatError(f"{name}: the header length {length} at offset 9 runs past the end of the file ({size} bytes)")
    header = _read_exact(f, length, _PREFIX.size, name)
    (crc,) = _CRC.unpack(_read_exact(f, _CRC.size, _PREFIX.size + length, name))
    if crc32(header) != crc:
        raise FormatError(f"{name}: the header checksum at offset {_PREFIX.size + length} does not match; the file is corrupt")
    body = unpack_header(header, name)
    data_start = _align(_PREFIX.size + length + _CRC.size)
    entries = _entries(body["arrays"], data_start, size, name)
    return Header(version, body.get("tree"), entries, body.get("metadata"), data_start, size)


def _read_exact(f: IO[bytes], n: int, offset: int, name: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise FormatError(f"{name} ends at offset {offset + len(data)}, inside data expected to run to {offset + n}")
    return data


def unpack_header(header: bytes, name: str) -> dict[str, Any]:
    try:
        body = _unpackb(header, raw=False, strict_map_key=True, use_list=True)
    except Exception as e:  # msgpack raises many types for malformed input
        raise FormatError(f"{name}: the header is not valid msgpack ({type(e).__name__}: {e})") from None
    fields = header_map(body, f"{name}: the header")
    if "tree" not in fields or type(fields.get("arrays")) is not list:
        raise FormatError(f"{name}: the header lacks its 'tree' and 'arrays' keys")
    return fields


def _entries(raw: list[Any], data_start: int, size: int, name: str) -> list[ArrayEntry]:
    entries = [_entry(r, i, data_start, size, name) for i, r in enumerate(raw)]
    offsets = [e.offset for e in entries]
    ordered = entries if offsets == sorted(offsets) else sorted(entries, key=lambda e: e.offset)
    for a, b in zip(ordered, ordered[1:]):
        if a.offset + a.nbytes > b.offset:
            raise FormatError(f"{name}: arrays {a.path!r} and {b.path!r} overlap at offset {b.offset}")
    return entries


def header_map(value: object, what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise FormatError(f"{what} is not a map")
    return cast(dict[str, Any], value)


def array_entry(raw: Any, i: int, name: str, offset: int = 0, crc32: bytes = b"") -> tuple[dict[str, Any], ArrayEntry]:
    """The checks every array entry passes, in a native file and an `.npz` alike: a map
    with a str path, a known dtype, a valid shape and, for PRNG keys, a str impl over
    uint32 data. Returns the map and the entry, with `offset` and `crc32` as given."""
    if type(raw) is not dict:
        raise FormatError(f"{name}: array entry {i} is not a map")
    fields = cast("dict[str, Any]", raw)
    path, dtype_name, key_impl = fields.get("path"), fields.get("dtype"), fields.get("key_impl")
    if type(path) is not str:
        raise FormatError(f"{name}: array entry {i} has no path")
    dtype = _DTYPES.get(dtype_name) if type(dtype_name) is str else None
    if dtype is None:  # the messages are built only for a bad entry
        dtype = dtype_from_name(dtype_name, f"{name} array {path!r}")
    shape = _shape(fields.get("shape"))
    if shape is None:
        raise FormatError(
            f"{name}: array {path!r} has an invalid shape {fields.get('shape')!r} "
            f"(a list of at most 64 ints from 0 to 2**48)"
        )
    if key_impl is not None and (type(key_impl) is not str or dtype != np.uint32):
        raise FormatError(f"{name}: array entry {i} ({path!r}) has an invalid key_impl")
    return fields, ArrayEntry(path, dtype, shape, offset, math.prod(shape) * dtype.itemsize, crc32, key_impl)


def _shape(value: object) -> tuple[int, ...] | None:
    """`value` as a shape if it is a valid one: a list of at most 64 ints in [0, 2**48)."""
    if type(value) is not list:
        return None
    dims = cast("list[object]", value)
    if len(dims) > 64:
        return None
    for d in dims:
        if type(d) is not int or not 0 <= d < _MAX_DIM:
            return None
    return tuple(cast("list[int]", dims))


def _entry(raw: Any, i: int, data_start: int, size: int, name: str) -> ArrayEntry:
    if type(raw) is not dict:
        raise FormatError(f"{name}: array entry {i} is not a map")
    fields = cast("dict[str, Any]", raw)
    offset, nbytes, crc = fields.get("offset"), fields.get("nbytes"), fields.get("crc32")
    _, entry = array_entry(fields, i, name, offset if type(offset) is int else 0, crc if type(crc) is bytes else b"")
    path = entry.path
    if type(offset) is not int or type(nbytes) is not int or type(crc) is not bytes or len(crc) != 4:
        raise FormatError(f"{name}: array entry {i} ({path!r}) has an invalid offset, length or checksum")
    if entry.nbytes != nbytes:
        raise FormatError(
            f"{name}: array entry {i} ({path!r}) says {nbytes} bytes, but shape {entry.shape} of {entry.dtype} needs {entry.nbytes}"
        )
    if offset % ALIGN or offset < data_start or offset + nbytes > size:
        raise FormatError(
            f"{name}: array entry {i} ({path!r}) at offset {offset} with {nbytes} bytes lies outside the data of {name} ({data_start}..{size})"
        )
    return entry


def _bytes_of(array: np.ndarray[Any, Any]) -> memoryview:
    """The raw bytes of a C-contiguous array: its own buffer where NumPy exports one,
    else a uint8 view's (ml_dtypes arrays export none)."""
    if array.dtype.isbuiltin == 1:
        return array.data
    return array.reshape(-1).view(np.uint8).data  # pyright: ignore[reportUnknownMemberType]


def aligned_buffer(nbytes: int) -> np.ndarray[Any, Any]:
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start : start + nbytes]


def read_arrays(f: IO[bytes], header: Header, verify: bool, name: str = "the file") -> Iterator[np.ndarray[Any, Any]]:
    """Each array of the file as a read-only host array in a 64-byte-aligned buffer.

    Neighbouring small arrays are read with one call into one buffer. With `verify`,
    checksums run on worker threads while the next bytes are read; a mismatch
    raises after the last array, before anything is built from them.
    """
    pending: list[tuple[ArrayEntry, Checksum | int]] = []
    for run in _runs(header.arrays):
        first = run[0].offset
        buffer = _read_span(f, run, name)
        buffer.flags.writeable = False  # so every array made from it is read-only
        data = buffer.data
        for entry in run:
            start = entry.offset - first
            if verify:
                pending.append((entry, _checksum(data[start : start + entry.nbytes], entry.nbytes)))
            yield np.ndarray(entry.shape, entry.dtype, buffer=buffer, offset=start)
    if verify:
        for entry, checksum in pending:
            check_crc(checksum if isinstance(checksum, int) else checksum.value(), entry, name)


def check_crc(crc: int, entry: ArrayEntry, name: str) -> None:
    if _CRC.pack(crc) != entry.crc32:
        raise FormatError(
            f"{name}: the checksum of array {entry.path!r} (offset {entry.offset}, {entry.nbytes} bytes) "
            f"does not match; the file is corrupt. verify=False skips checks, at your own risk"
        )


def _checksum(data: Buffer, nbytes: int) -> Checksum | int:
    """The crc32 of a small buffer at once; of a large one, on worker threads."""
    if nbytes < INLINE:
        return crc32(data)
    checksum = Checksum()
    checksum.update(memoryview(data).cast("B"))
    return checksum


def _runs(entries: Sequence[ArrayEntry]) -> Iterator[list[ArrayEntry]]:
    """Entries in order, grouped so each group is one read: neighbours in the file
    (less than ALIGN bytes apart) spanning at most CHUNK bytes together."""
    run: list[ArrayEntry] = []
    for entry in entries:
        if run:
            end = run[-1].offset + run[-1].nbytes
            if not 0 <= entry.offset - end < ALIGN or entry.offset + entry.nbytes - run[0].offset > CHUNK:
                yield run
                run = []
        run.append(entry)
    if run:
        yield run


def _read_span(f: IO[bytes], run: list[ArrayEntry], name: str) -> np.ndarray[Any, Any]:
    """The bytes from the first array of `run` to the end of its last."""
    offset = run[0].offset
    buffer = aligned_buffer(run[-1].offset + run[-1].nbytes - offset)
    got = read_into(f, buffer.data, offset)
    if got != buffer.nbytes:
        end = offset + got
        raise truncated(name, end, next(e for e in run if e.offset + e.nbytes > end))
    return buffer


def read_whole(f: IO[bytes], entry: ArrayEntry, verify: bool, name: str) -> np.ndarray[Any, Any]:
    """One array of a file as a read-only host array."""
    (array,) = read_arrays(f, Header(VERSION, None, [entry], None, 0, 0), verify, name)
    return array


def read_into(f: IO[bytes], view: memoryview, offset: int) -> int:
    """Read into `view` from `offset` until it is full or the file ends; the bytes read."""
    raw = cast(io.RawIOBase, f)
    f.seek(offset)
    got = 0
    while got < view.nbytes:
        n = raw.readinto(view[got : got + CHUNK]) or 0
        if n == 0:
            break
        got += n
    return got


def truncated(name: str, end: int, entry: ArrayEntry) -> FormatError:
    return FormatError(f"{name} ends at offset {end}, inside array {entry.path!r} (offset {entry.offset})")


def map_arrays(fileno: int, header: Header, verify: bool, name: str = "the file") -> list[np.ndarray[Any, Any]]:
    """Read-only arrays backed by a map of the file; nothing is read up front."""
    mapped = mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)  # read_header checked the file is not empty
    out: list[np.ndarray[Any, Any]] = []
    for entry in header.arrays:
        if entry.nbytes == 0:
            array = np.zeros(entry.shape, entry.dtype)
            array.flags.writeable = False
        else:
            array = np.ndarray(entry.shape, entry.dtype, buffer=mapped, offset=entry.offset)
            if verify:
                check_crc(crc32(_bytes_of(array)), entry, name)
        out.append(array)
    return out
