"""crc32 of large buffers on worker threads, overlapping with file reads and writes.

A buffer is split into chunks whose crc32s run in parallel (zlib releases the GIL)
and are joined with `crc32_combine`, so checking a checksum costs little more than
reading the bytes. Small buffers are checked inline: a thread hop costs more.
"""

from __future__ import annotations

import functools
import zlib
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["Checksum", "crc32_combine", "CHUNK", "INLINE"]

CHUNK = 2 << 20
INLINE = 1 << 20  # smaller buffers are checked on the calling thread
_POLY = 0xEDB88320  # reflected crc32 polynomial


def _multiply(a: int, b: int) -> int:
    """a * b modulo the crc32 polynomial (bit-reflected), as zlib's multmodp."""
    m, product = 1 << 31, 0
    while True:
        if a & m:
            product ^= b
            if not a & (m - 1):
                return product
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


@functools.cache
def _x_pow_2k() -> tuple[int, ...]:
    powers = [1 << 30]  # x^1
    for _ in range(31):
        powers.append(_multiply(powers[-1], powers[-1]))
    return tuple(powers)


def _x_pow_8n(n: int) -> int:
    """x^(8n) modulo the polynomial: the shift of a crc past n zero bytes."""
    powers, product, k = _x_pow_2k(), 1 << 31, 3
    while n:
        if n & 1:
            product = _multiply(powers[k & 31], product)
        n >>= 1
        k += 1
    return product


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """crc32(a + b) from crc32(a), crc32(b) and len(b)."""
    return _multiply(_x_pow_8n(len2), crc1) ^ crc2


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
            self._parts.append((zlib.crc32(data), n))
            return
        for start in range(0, n, CHUNK):
            chunk = data[start : start + CHUNK]
            self._parts.append((_pool().submit(zlib.crc32, chunk), chunk.nbytes))

    def value(self) -> int:
        crc = None
        for part, n in self._parts:
            value = part if isinstance(part, int) else part.result()
            crc = value if crc is None else crc32_combine(crc, value, n)
        return crc or 0
