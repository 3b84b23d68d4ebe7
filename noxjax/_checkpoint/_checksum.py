"""crc32, the checksum of every array in a file, and of large buffers on worker threads.

`crc32` is zlib-ng's: the same values as `zlib.crc32` at 4-5 times its speed (SIMD),
which is most of the cost of a verified load or of saving many small arrays. A large
buffer is split into chunks whose crc32s run in parallel (the GIL is released) and
are joined with `crc32_combine`, so checking a checksum costs little more than
reading the bytes. Small buffers are checked inline: a thread hop costs more.
"""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol, cast

from typing_extensions import Buffer
from zlib_ng import zlib_ng


class _Crc32(Protocol):
    def __call__(self, data: Buffer, value: int = 0, /) -> int: ...


crc32 = cast(_Crc32, zlib_ng.crc32)  # pyright: ignore[reportUnknownMemberType]
crc32_combine = zlib_ng.crc32_combine

__all__ = ["Checksum", "crc32", "crc32_combine", "CHUNK", "INLINE"]

CHUNK = 2 << 20
INLINE = 1 << 20  # smaller buffers are checked on the calling thread


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="noxjax-crc32")


class Checksum:
    """The crc32 of a buffer fed in order, part by part, possibly on worker threads."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[tuple[Future[int] | int, int]] = []

    def update(self, data: memoryview) -> None:
        """Add the next part; `data` must stay unchanged until `value()` returns."""
        n = data.nbytes
        if n < INLINE:
            self._parts.append((crc32(data), n))
            return
        for start in range(0, n, CHUNK):
            chunk = data[start : start + CHUNK]
            self._parts.append((_pool().submit(crc32, chunk), chunk.nbytes))

    def value(self) -> int:
        crc = None
        for part, n in self._parts:
            value = part if isinstance(part, int) else part.result()
            crc = value if crc is None else crc32_combine(crc, value, n)
        return crc or 0
