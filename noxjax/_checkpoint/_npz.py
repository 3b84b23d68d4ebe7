"""The `.npz` form: a plain, uncompressed NumPy archive that `numpy.load` opens.

Each array is `<keystr path>.npy`. Dtypes NumPy lacks (bfloat16, float8, int4,
...) are stored as same-width unsigned integers; PRNG keys as their key data.
The header (the same msgpack map as the native format) is `__noxjax__.npy`, a
uint8 array holding its bytes.
"""

from __future__ import annotations

import io
import math
import zipfile
from typing import IO, Any, cast

import numpy as np

from .._errors import FormatError
from ._format import (
    NUMPY_DTYPE_NAMES,
    ArrayEntry,
    Header,
    array_entry,
    host_array,
    pack_body,
    stored_entries,
    unpack_header,
)

__all__ = ["write_npz", "read_npz", "HEADER_NAME", "ZIP_MAGIC"]

HEADER_NAME = "__noxjax__"
ZIP_MAGIC = b"PK\x03\x04"


def _member(path: str, taken: set[str]) -> str:
    name = path or "<root>"
    while name in taken or name == HEADER_NAME:
        name += "_"
    taken.add(name)
    return name


def _as_numpy(data: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if str(data.dtype) in NUMPY_DTYPE_NAMES:
        return data
    return np.ndarray(data.shape, np.dtype(f"u{data.dtype.itemsize}"), buffer=data) if data.size else np.zeros(data.shape, f"u{data.dtype.itemsize}")


def write_npz(f: IO[bytes], tree: Any, arrays: list[tuple[str, Any]], metadata: Any) -> None:
    taken: set[str] = set()
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for (path, x), stored in zip(arrays, stored_entries(arrays)):
            member = _member(path, taken)
            data = _as_numpy(host_array(x, stored.key_impl is not None))
            with archive.open(f"{member}.npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, data, allow_pickle=False)
            entry = stored.describe()
            entry["member"] = member
            entries.append(entry)
        header = pack_body({"tree": tree, "arrays": entries, "metadata": metadata})
        with archive.open(f"{HEADER_NAME}.npy", "w") as out:
            np.lib.format.write_array(out, np.frombuffer(header, np.uint8), allow_pickle=False)


def read_npz(f: IO[bytes], name: str, with_data: bool = True) -> tuple[Header, list[np.ndarray[Any, Any]]]:
    """The header and arrays of an archive; `with_data=False` reads the header only.

    Only stored (uncompressed) members are read. Each member's `.npy` header must
    give exactly the dtype (little-endian), C order and shape of its entry, and the
    member exactly the bytes those need, before anything is allocated or read.
    """
    try:
        with zipfile.ZipFile(f) as archive:
            body = unpack_header(_member_bytes(archive, HEADER_NAME, None, name).tobytes(), name)
            read = [_read_member(archive, raw, i, name, with_data) for i, raw in enumerate(body["arrays"])]
    except FormatError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError) as e:
        raise FormatError(f"{name} is not a readable noxjax .npz archive: {type(e).__name__}: {e}") from None
    header = Header(1, body.get("tree"), [entry for entry, _ in read], body.get("metadata"), 0, 0)
    return header, [array for _, array in read]


def _read_member(archive: zipfile.ZipFile, raw: Any, i: int, name: str, with_data: bool) -> tuple[ArrayEntry, np.ndarray[Any, Any]]:
    fields, entry = array_entry(raw, i, name)
    member = fields.get("member")
    if type(member) is not str:
        raise FormatError(f"{name}: array entry {i} ({entry.path!r}) has no member name")
    if not with_data:
        return entry, np.empty(0)
    array = np.ndarray(entry.shape, entry.dtype, buffer=_member_bytes(archive, member, entry, name))
    array.flags.writeable = False
    return entry, array


def _stored_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype an array of `dtype` has inside the archive (NumPy's own, little-endian)."""
    return dtype if str(dtype) in NUMPY_DTYPE_NAMES else np.dtype(f"<u{dtype.itemsize}")


def _member_bytes(archive: zipfile.ZipFile, member: str, entry: ArrayEntry | None, name: str) -> np.ndarray[Any, Any]:
    """The data of `member.npy`: for an array `entry`, exactly its bytes; for the
    header (`entry` None), a 1-D uint8 array no larger than the archive."""
    what = f"{name}: member {member!r}.npy"
    info = archive.getinfo(f"{member}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        raise FormatError(f"{what} is compressed; noxjax reads only stored members (numpy.savez writes them)")
    with archive.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            raise FormatError(f"{what} has .npy format version {version}")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, stored = read_header(fp, max_header_size=10_000)
        expected = np.dtype(np.uint8) if entry is None else _stored_dtype(entry.dtype)
        if fortran or stored != expected or stored.byteorder == ">":
            raise FormatError(
                f"{what} holds {stored} in {'Fortran' if fortran else 'C'} order; its entry needs {expected} in C order"
            )
        if entry is not None and tuple(shape) != entry.shape:
            raise FormatError(f"{what} has shape {list(shape)}; its entry says {list(entry.shape)}")
        if entry is None and len(shape) != 1:
            raise FormatError(f"{what} must be a 1-D uint8 array")
        nbytes = math.prod(shape) * stored.itemsize
        if info.file_size - fp.tell() != nbytes:
            raise FormatError(f"{what} has {info.file_size - fp.tell()} bytes of data; its header needs {nbytes}")
        data = np.empty(nbytes, np.uint8)
        if cast(io.RawIOBase, fp).readinto(data.data) != nbytes:
            raise FormatError(f"{what} ends early")
    return data
