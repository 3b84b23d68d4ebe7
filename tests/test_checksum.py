"""crc32 (zlib-ng's, checked against zlib), crc32_combine past 4 GB, and crc32 on worker threads (noxjax/_checkpoint/_checksum.py)."""

from __future__ import annotations

import zlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from noxjax._checkpoint._checksum import CHUNK, INLINE, Checksum, crc32_combine


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_combine_equals_the_crc_of_the_concatenation(a: bytes, b: bytes) -> None:
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**20))
def test_combine_past_zero_runs_matches_zlib(crc1: int, crc2: int, length: int) -> None:
    # by linearity, crc(a + b) = crc(a + zeros) ^ crc(zeros) ^ crc(b) for len(b) zeros
    zeros = bytes(length)
    assert crc32_combine(crc1, crc2, length) == zlib.crc32(zeros, crc1) ^ zlib.crc32(zeros) ^ crc2


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**40), st.integers(0, 2**40))
def test_combine_is_associative_for_lengths_up_to_a_terabyte(a: int, b: int, c: int, nb: int, nc: int) -> None:
    assert crc32_combine(crc32_combine(a, b, nb), c, nc) == crc32_combine(a, crc32_combine(b, c, nc), nb + nc)


def test_checksum_of_large_buffers_in_chunks_equals_zlib() -> None:
    rng = np.random.default_rng(0)
    for size in (0, 10, INLINE - 1, INLINE, CHUNK + 123, 3 * CHUNK + 7):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        checksum = Checksum()
        checksum.update(memoryview(data)[: size // 3])
        checksum.update(memoryview(data)[size // 3 :])
        assert checksum.value() == zlib.crc32(data), size
