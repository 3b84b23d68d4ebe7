"""Reading a sharded array: each device gets its own slice, read from the file.

A slice reads the rows (first-axis range) it covers, so an array split along its
first axis reads each byte once and holds one slice in memory at a time; a slice of
another axis reads the rows it spans. Checksums are checked by streaming the array
through one small buffer before any slice is read.
"""

from __future__ import annotations

import math
from typing import IO, Any

import jax
import numpy as np

from ._checksum import CHUNK, crc32
from ._format import ArrayEntry, aligned_buffer, check_crc, read_into, truncated

__all__ = ["read_sharded"]


def read_sharded(f: IO[bytes], entry: ArrayEntry, sharding: jax.sharding.Sharding, verify: bool, name: str) -> jax.Array:
    """`entry`'s array placed with `sharding`, reading only what its devices hold."""
    if verify:
        _verify(f, entry, name)
    read: dict[tuple[tuple[int, int], ...], np.ndarray[Any, Any]] = {}

    def piece(index: Any) -> np.ndarray[Any, Any]:
        slices: tuple[slice, ...] = index or ()
        bounds = tuple(s.indices(n)[:2] for s, n in zip(slices, entry.shape))
        if bounds not in read:  # replicated slices are read once
            read[bounds] = _read_slice(f, entry, bounds, name)
        return read[bounds]

    return jax.make_array_from_callback(entry.shape, sharding, piece)


def _read_slice(f: IO[bytes], entry: ArrayEntry, bounds: tuple[tuple[int, int], ...], name: str) -> np.ndarray[Any, Any]:
    first, last = bounds[0] if bounds else (0, 1)  # a scalar is one row
    row = math.prod(entry.shape[1:]) * entry.dtype.itemsize
    buffer = aligned_buffer((last - first) * row)
    _read_exactly(f, buffer.data, entry.offset + first * row, entry, name)
    shape = (last - first, *entry.shape[1:])
    rows = np.ndarray(shape if bounds else (), entry.dtype, buffer=buffer)
    inner = rows[(slice(None),) + tuple(slice(a, b) for a, b in bounds[1:])] if bounds else rows
    return inner if inner.flags.c_contiguous else np.ascontiguousarray(inner)


def _verify(f: IO[bytes], entry: ArrayEntry, name: str) -> None:
    buffer = aligned_buffer(min(entry.nbytes, CHUNK)).data
    crc = 0
    for start in range(0, entry.nbytes, CHUNK):
        chunk = buffer[: min(CHUNK, entry.nbytes - start)]
        _read_exactly(f, chunk, entry.offset + start, entry, name)
        crc = crc32(chunk, crc)
    check_crc(crc, entry, name)


def _read_exactly(f: IO[bytes], view: memoryview, offset: int, entry: ArrayEntry, name: str) -> None:
    got = read_into(f, view, offset)
    if got != view.nbytes:
        raise truncated(name, offset + got, entry)
