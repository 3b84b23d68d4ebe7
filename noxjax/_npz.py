"""The `.npz` form: a plain, uncompressed NumPy archive that `numpy.load` opens.

Each array is `<keystr path>.npy`. Dtypes NumPy lacks (bfloat16, float8, int4,
...) are stored as same-width unsigned integers; PRNG keys as their key data.
The header (the same msgpack map as the native format) is `__noxjax__.npy`, a
uint8 array holding its bytes.
"""

from __future__ import annotations

import math
import zipfile
from typing import IO, Any

import numpy as np

from ._errors import FormatError
from ._format import (
    NUMPY_DTYPE_NAMES,
    ArrayEntry,
    Header,
    dtype_from_name,
    header_map,
    header_shape,
    host_array,
    pack_body,
    stored_layout,
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
        for (path, x), layout in zip(arrays, stored_layout(arrays)):
            member = _member(path, taken)
            data = _as_numpy(host_array(x))
            with archive.open(f"{member}.npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, data, allow_pickle=False)
            entry = ArrayEntry(path, layout[0], layout[1], 0, 0, b"\0\0\0\0", layout[2]).describe()
            entry["member"] = member
            entries.append(entry)
        header = pack_body({"tree": tree, "arrays": entries, "metadata": metadata})
        with archive.open(f"{HEADER_NAME}.npy", "w") as out:
            np.lib.format.write_array(out, np.frombuffer(header, np.uint8), allow_pickle=False)


def read_npz(f: IO[bytes], name: str, with_data: bool = True) -> tuple[Header, list[np.ndarray[Any, Any]]]:
    """The header and arrays of an archive; `with_data=False` reads the header only."""
    try:
        with np.load(f, allow_pickle=False) as npz:
            body = unpack_header(npz[HEADER_NAME].tobytes(), name)
            read = [_read_member(npz, raw, i, name, with_data) for i, raw in enumerate(body["arrays"])]
    except FormatError:
        raise
    except Exception as e:  # zipfile, numpy and OS errors for a damaged archive
        raise FormatError(f"{name} is not a readable noxjax .npz archive: {type(e).__name__}: {e}") from None
    header = Header(1, body.get("tree"), [entry for entry, _ in read], body.get("metadata"), 0, 0)
    return header, [array for _, array in read]


def _read_member(npz: Any, raw: Any, i: int, name: str, with_data: bool) -> tuple[ArrayEntry, np.ndarray[Any, Any]]:
    fields = header_map(raw, f"{name}: array entry {i}")
    path, member, key_impl = fields.get("path"), fields.get("member"), fields.get("key_impl")
    if type(path) is not str or type(member) is not str or (key_impl is not None and type(key_impl) is not str):
        raise FormatError(f"{name}: array entry {i} is malformed")
    dtype = dtype_from_name(fields.get("dtype"), f"{name} array {path!r}")
    shape = header_shape(fields.get("shape"), f"{name}: array {path!r}")
    entry = ArrayEntry(path, dtype, shape, 0, math.prod(shape) * dtype.itemsize, b"", key_impl)
    if not with_data:
        return entry, np.empty(0)
    data: np.ndarray[Any, Any] = npz[member]
    if data.dtype.itemsize != dtype.itemsize or data.shape != shape:
        raise FormatError(f"{name}: array {path!r} does not match its header entry")
    array = np.ndarray(shape, dtype, buffer=data) if data.size else np.zeros(shape, dtype)
    array.flags.writeable = False
    return entry, array
