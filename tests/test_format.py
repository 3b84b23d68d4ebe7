"""Hostile files: every malformed input is a nox.FormatError, never a crash,
hang, huge allocation or code execution."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ckpt_models
import noxjax as nox

MODEL = nox.Sequential([ckpt_models.Leaf(jnp.arange(12.0).reshape(3, 4)), ckpt_models.Leaf(jnp.ones(5, jnp.int8))])
GOOD = nox.dumps(MODEL)
PREFIX = struct.Struct("<7sHQ")


def split(data: bytes) -> tuple[dict[str, Any], int]:
    _, _, length = PREFIX.unpack_from(data)
    return msgpack.unpackb(data[17 : 17 + length], raw=False), 17 + length + 4


def rebuild(header: Any, data: bytes = GOOD, version: int = 1, magic: bytes = b"NOXJAX\0") -> bytes:
    """A file with this header (and a correct header checksum) and the original array bytes."""
    _, old_end = split(data)
    packed = header if isinstance(header, bytes) else msgpack.packb(header, use_bin_type=True)
    head = PREFIX.pack(magic, version, len(packed)) + packed + struct.pack("<I", zlib.crc32(packed))
    data_start = -(-old_end // 64) * 64
    return head + bytes(max(0, data_start - len(head))) + data[data_start:]


def loads_or_format_error(data: bytes) -> Any:
    try:
        return nox.loads(data)
    except nox.FormatError as e:
        assert str(e)
        return e


def test_good_file_loads() -> None:
    assert nox.loads(GOOD) == MODEL
    header, _ = split(GOOD)
    assert nox.loads(rebuild(header)) == MODEL


@given(st.integers(0, len(GOOD) - 1))
def test_truncated_anywhere(length: int) -> None:
    result = loads_or_format_error(GOOD[:length])
    assert isinstance(result, nox.FormatError) or result == MODEL  # only trailing padding may go


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1, max_size=4))
def test_flipped_bytes(flips: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD)
    for i, mask in flips:
        data[i] ^= mask
    result = loads_or_format_error(bytes(data))
    assert isinstance(result, nox.FormatError) or result == MODEL  # padding is not checksummed


def test_magic_version_and_header_length() -> None:
    header, _ = split(GOOD)
    with pytest.raises(nox.FormatError, match=r"not a noxjax file: it starts with b'NOTJAX"):
        nox.loads(rebuild(header, magic=b"NOTJAX\0"))
    with pytest.raises(nox.FormatError, match=r"format version 9, newer than this noxjax reads \(1\); upgrade noxjax"):
        nox.loads(rebuild(header, version=9))
    too_long = bytearray(GOOD)
    too_long[9:17] = struct.pack("<Q", 2**62)
    with pytest.raises(nox.FormatError, match=r"header length 4611686018427387904 at offset 9 runs past the end"):
        nox.loads(bytes(too_long))
    with pytest.raises(nox.FormatError, match="too short"):
        nox.loads(b"NOX")


entry_mutations = st.sampled_from(
    [
        ("offset", 10**15),
        ("offset", -64),
        ("offset", 65),
        ("offset", 0),
        ("nbytes", 10**12),
        ("nbytes", -1),
        ("shape", [2**40, 2**40]),
        ("shape", [-1]),
        ("shape", "3x4"),
        ("shape", [3] * 100),
        ("dtype", "object"),
        ("dtype", "O"),
        ("dtype", "V8"),
        ("dtype", "float1024"),
        ("dtype", None),
        ("crc32", b"\0"),
        ("crc32", 5),
        ("path", None),
        ("key_impl", 3),
        ("key_impl", "../../etc"),
    ]
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 1), entry_mutations)
def test_header_aware_entry_mutations(index: int, mutation: tuple[str, Any]) -> None:
    header, _ = split(GOOD)
    key, value = mutation
    header["arrays"][index][key] = value
    with pytest.raises(nox.FormatError):
        nox.loads(rebuild(header))


tree_mutations = st.sampled_from(
    [
        {"t": "m", "c": "evil.module:Payload", "f": {}},
        {"t": "m", "c": "tests.Leaf", "f": {"w": None}},
        {"t": "m", "c": "tests.Leaf", "f": {"w": None, "note": None, "extra": 1}},
        {"t": "fn", "v": "os.system"},
        {"t": "fn", "v": 3},
        {"t": "pickle", "v": pickle.dumps(print)},
        {"t": "a", "i": 99},
        {"t": "a", "i": "0"},
        {"t": "int", "v": "1" * 5000},
        {"t": "int", "v": "__import__('os')"},
        {"t": "complex", "v": [1]},
        {"t": "dict", "k": [[1]], "v": [1]},
        {"t": "dict", "k": ["a"], "v": []},
        {"t": "tuple", "v": 3},
        {"t": "stype", "ns": "jnp", "v": "sum"},
        {"t": "stype", "ns": "os", "v": "system"},
        {"t": "dtype", "v": "object"},
        {"t": "bm", "c": "tests.Leaf", "n": "__init__", "s": None},
        [1, 2],
        b"bytes",
    ]
)


@settings(max_examples=100)
@given(tree_mutations)
def test_header_aware_tree_mutations(node: Any) -> None:
    header, _ = split(GOOD)
    header["tree"] = {"t": "tuple", "v": [node]}
    with pytest.raises(nox.FormatError):
        nox.loads(rebuild(header))


@pytest.mark.parametrize("depth", [500, 100_000])
def test_deeply_nested_header(depth: int) -> None:
    tuple_node = msgpack.packb({"t": "tuple", "v": []})[:-1]  # a map whose "v" array is completed below
    deep = (tuple_node + b"\x91") * depth + b"\x00"
    packed = b"\x83" + msgpack.packb("tree") + deep + msgpack.packb("arrays") + b"\x90" + msgpack.packb("metadata") + b"\xc0"
    with pytest.raises(nox.FormatError):
        nox.loads(rebuild(packed))


@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    with pytest.raises(nox.FormatError):
        nox.loads(b"NOXJAX\0\x01\x00" + data)


def test_pickle_payloads_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> Any:
            return (open, (str(marker), "w"))

    header, _ = split(GOOD)
    header["tree"] = {"t": "m", "c": "tests.Leaf", "f": {"w": pickle.dumps(Payload()), "note": None}}
    with pytest.raises(nox.FormatError):
        nox.loads(rebuild(header))
    archive = tmp_path / "evil.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.array([Payload()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("__noxjax__.npy", buffer.getvalue())
    with pytest.raises(nox.FormatError, match=r"member '__noxjax__'\.npy holds object in C order; its entry needs uint8"):
        nox.load(archive)
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(nox.FormatError, match="not a noxjax file"):
        nox.load(raw)
    assert not marker.exists()


def test_unknown_dtype_and_class_messages() -> None:
    header, _ = split(GOOD)
    header["arrays"][0]["dtype"] = "float128x"
    with pytest.raises(nox.FormatError, match=r"unknown dtype 'float128x'"):
        nox.loads(rebuild(header))
    header, _ = split(GOOD)
    header["tree"] = {"t": "m", "c": "mypkg.models:Transformer", "f": {}}
    with pytest.raises(nox.FormatError, match=r"unknown module class 'mypkg.models:Transformer'.*import mypkg.models"):
        nox.loads(rebuild(header))


def test_a_zero_size_array_cannot_claim_a_huge_dimension() -> None:
    data = nox.dumps(jnp.zeros((0, 3)))
    header, _ = split(data)
    header["arrays"][0]["shape"] = [0, 2**62]
    with pytest.raises(nox.FormatError, match=r"invalid shape \[0, 4611686018427387904\] \(a list of at most 64 ints from 0 to 2\*\*48\)"):
        nox.loads(rebuild(header, data))
    header["arrays"][0]["shape"] = [0, 2**48 - 1]
    assert nox.loads(rebuild(header, data)).shape == (0, 2**48 - 1)


@given(st.lists(st.integers(0, 2**33), max_size=8), st.integers(0, 2**33).map(lambda n: n * 64))
def test_the_header_counts_its_offsets_bytes_as_msgpack_packs_them(sizes: list[int], data_start: int) -> None:
    import msgpack

    from noxjax._checkpoint._format import ArrayEntry, _Header

    entries = [ArrayEntry(f"[{i}]", np.dtype(np.uint8), (n,), 0, n, b"", None) for i, n in enumerate(sizes)]
    header = _Header(None, entries, None)
    offsets = header.offsets(data_start)
    assert offsets == [data_start + sum(-(-n // 64) * 64 for n in sizes[:i]) for i in range(len(sizes))]
    assert header.offset_bytes(data_start) == sum(len(msgpack.packb(o)) for o in offsets)


@pytest.mark.parametrize("bound", [0x80, 0x100, 0x10000, 2**32])
def test_offset_bytes_grow_exactly_at_each_msgpack_int_width(bound: int) -> None:
    import msgpack

    from noxjax._checkpoint._format import ArrayEntry, _Header

    entries = [ArrayEntry("[0]", np.dtype(np.uint8), (64,), 0, 64, b"", None), ArrayEntry("[1]", np.dtype(np.uint8), (1,), 0, 1, b"", None)]
    header = _Header(None, entries, None)
    for data_start in (bound - 64 - 64, bound - 64, bound):  # the second offset is data_start + 64
        assert header.offset_bytes(data_start) == sum(len(msgpack.packb(o)) for o in header.offsets(data_start)), data_start


def test_mmap_gives_read_only_arrays_and_zeros_for_empty_ones(tmp_path: Path) -> None:
    tree = {"empty": jnp.zeros((0, 3), jnp.bfloat16), "w": jnp.arange(4.0), "last": jnp.zeros((2, 0))}
    nox.save(tmp_path / "m.nox", tree)
    for verify in (None, True):
        loaded = nox.load(tmp_path / "m.nox", mmap=True, verify=verify)
        assert (loaded["empty"].shape, loaded["empty"].dtype, loaded["last"].shape) == ((0, 3), jnp.bfloat16, (2, 0))
        assert not any(x.flags.writeable for x in loaded.values())
        np.testing.assert_array_equal(loaded["w"], np.arange(4.0))


@pytest.mark.parametrize("impl", ["threefry2x32", "rbg", "unsafe_rbg"])
@pytest.mark.parametrize("suffix", [".nox", ".npz"])
def test_prng_key_impls_round_trip(tmp_path: Path, impl: str, suffix: str) -> None:
    keys = jax.random.split(jax.random.key(3, impl=impl), 2)
    nox.save(tmp_path / f"k{suffix}", {"keys": keys})
    loaded = nox.load(tmp_path / f"k{suffix}")["keys"]
    assert jax.random.key_impl(loaded) == jax.random.key_impl(keys)
    np.testing.assert_array_equal(jax.random.key_data(loaded), jax.random.key_data(keys))
    info = nox.inspect(tmp_path / f"k{suffix}")
    assert info.arrays[0][1:3] == (f"key<{impl}>", (2,))


def test_inspect_shows_the_stored_shape_of_keys_of_an_impl_this_jax_lacks(tmp_path: Path) -> None:
    data = nox.dumps({"k": jax.random.split(jax.random.key(0), 3)})
    header, _ = split(data)
    header["arrays"][0]["key_impl"] = "from_the_future"
    (tmp_path / "k.nox").write_bytes(rebuild(header, data))
    assert nox.inspect(tmp_path / "k.nox").arrays[0][1:3] == ("key<from_the_future>", (3, 2))
    with pytest.raises(nox.FormatError, match="cannot rebuild PRNG keys of impl 'from_the_future'"):
        nox.load(tmp_path / "k.nox")
    header["arrays"][0].update(key_impl="rbg", shape=[], nbytes=4)  # less key data than one key
    (tmp_path / "k.nox").write_bytes(rebuild(header, data))
    assert nox.inspect(tmp_path / "k.nox").arrays[0][1:3] == ("key<rbg>", ())


def test_inspect_never_asks_jax_about_a_files_impl_names(tmp_path: Path) -> None:
    import time

    data = nox.dumps([jax.random.key(i) for i in range(2000)])
    header, _ = split(data)
    for i, entry in enumerate(header["arrays"]):
        entry["key_impl"] = f"impl{i}"  # each would cost JAX a failed lookup (~1 ms)
    (tmp_path / "k.nox").write_bytes(rebuild(header, data))
    start = time.perf_counter()
    info = nox.inspect(tmp_path / "k.nox")
    assert time.perf_counter() - start < 1.0 and info.arrays[1999][1:3] == ("key<impl1999>", (2,))


def _many_arrays() -> dict[str, Any]:
    """Arrays of awkward lengths (padding between them), a bfloat16 and an empty one, in
    more than one writev batch."""
    tree: dict[str, Any] = {f"a{i}": jnp.full((i % 7 + 1, 3), i, jnp.float32) for i in range(1100)}
    return tree | {"bf16": jnp.ones(5, jnp.bfloat16), "empty": jnp.zeros((0, 4)), "big": jnp.arange(300_000.0)}


def test_short_writevs_are_finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    tree = _many_arrays()
    real_writev, real_write, calls = os.writev, os.write, []

    def short_writev(fd: int, buffers: list[Any]) -> int:  # the OS may take less than it was given
        calls.append(len(buffers))
        return real_write(fd, b"".join(buffers)[:100])

    monkeypatch.setattr(os, "writev", short_writev)
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:4096])))
    nox.save(tmp_path / "m.nox", tree)
    monkeypatch.setattr(os, "writev", real_writev)
    assert len(calls) > 2 and max(calls) <= 1024  # batches, each within IOV_MAX
    assert (tmp_path / "m.nox").read_bytes() == nox.dumps(tree)


class _Trickle(io.RawIOBase):
    """A raw binary file that takes at most 7 bytes per write, and every third time
    none (None, as a non-blocking file does)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.position = 0
        self.calls = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = offset if whence == 0 else len(self.data) + offset
        return self.position

    def write(self, b: Any) -> int | None:
        self.calls += 1
        if self.calls % 3 == 1:
            return None
        chunk = bytes(memoryview(b).cast("B")[:7])
        self.data[self.position : self.position + len(chunk)] = chunk
        self.position += len(chunk)
        return len(chunk)


def test_file_objects_that_take_a_few_bytes_per_write_get_the_whole_file() -> None:
    tree = {"w": jnp.arange(10.0), "bf16": jnp.ones((2, 3), jnp.bfloat16), "empty": jnp.zeros((0, 2)), "s": 3}
    f = _Trickle()
    nox.save(f, tree)
    assert bytes(f.data) == nox.dumps(tree)
    assert nox.loads(bytes(f.data))["s"] == 3


def test_without_writev_the_same_bytes_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    tree = _many_arrays()
    monkeypatch.delattr(os, "writev")  # as on Windows
    nox.save(tmp_path / "m.nox", tree)
    assert (tmp_path / "m.nox").read_bytes() == nox.dumps(tree)


@given(st.lists(st.integers(0, 300), min_size=1, max_size=6))
def test_a_file_ends_at_the_aligned_end_of_its_last_array(sizes: list[int]) -> None:
    data = nox.dumps([jnp.zeros(n, jnp.uint8) for n in sizes])
    last = split(data)[0]["arrays"][-1]
    assert len(data) == -(-(last["offset"] + last["nbytes"]) // 64) * 64


def test_a_file_object_is_left_at_the_end_of_the_checkpoint() -> None:
    f = io.BytesIO()
    nox.save(f, {"w": jnp.arange(5.0)})
    assert f.tell() == len(f.getvalue())
    f.write(b"more")
    assert f.getvalue() == nox.dumps({"w": jnp.arange(5.0)}) + b"more"
