"""The `.npz` reader: only stored members whose `.npy` headers match their entries."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import noxjax as nox


def _good(tmp_path: Path) -> dict[str, bytes]:
    nox.save(tmp_path / "good.npz", {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.zeros(3, jnp.bfloat16)})
    with zipfile.ZipFile(tmp_path / "good.npz") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _npy(array: np.ndarray, *, fortran: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asfortranarray(array) if fortran else array)
    return buffer.getvalue()


def _write(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_saved_archive_is_plain_numpy_and_loads(tmp_path: Path) -> None:
    members = _good(tmp_path)
    assert sorted(members) == ["['b'].npy", "['w'].npy", "__noxjax__.npy"]
    assert np.load(tmp_path / "good.npz", allow_pickle=False)["['w']"].shape == (2, 3)
    assert nox.load(_write(tmp_path / "same.npz", members))["w"].tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: {**m, "['w'].npy": _npy(np.arange(6.0, dtype=np.float32).reshape(2, 3), fortran=True)},
         r"member \"\['w'\]\"\.npy holds float32 in Fortran order; its entry needs float32 in C order"),
        (lambda m: {**m, "['w'].npy": _npy(np.arange(6.0, dtype=">f4").reshape(2, 3))},
         r"holds >f4 in C order; its entry needs float32 in C order"),
        (lambda m: {**m, "['w'].npy": _npy(np.arange(6, dtype=np.int32).reshape(2, 3))},
         r"holds int32 in C order; its entry needs float32 in C order"),
        (lambda m: {**m, "['w'].npy": _npy(np.arange(6.0, dtype=np.float32))},
         r"has shape \[6\]; its entry says \[2, 3\]"),
        (lambda m: {**m, "['w'].npy": _npy(np.zeros((2, 3), np.float32))[:-4]},
         r"has 20 bytes of data; its header needs 24"),
        (lambda m: {**m, "['w'].npy": _npy(np.zeros((2, 3), np.float32)) + b"\0" * 8},
         r"has 32 bytes of data; its header needs 24"),
        (lambda m: {k: v for k, v in m.items() if k != "['b'].npy"},
         r"is not a readable noxjax \.npz archive: KeyError"),
        (lambda m: {**m, "__noxjax__.npy": _npy(np.zeros((2, 2), np.uint8))},
         r"member '__noxjax__'\.npy must be a 1-D uint8 array"),
        (lambda m: {**m, "['w'].npy": b"\x93NUMPY\x09\x00" + m["['w'].npy"][8:]},
         r"member \"\['w'\]\"\.npy has \.npy format version \(9, 0\)"),
    ],
    ids=["fortran", "big-endian", "int-as-float", "shape", "short", "long", "missing", "2-D header", "npy version"],
)
def test_members_that_differ_from_their_entry_are_format_errors(
    tmp_path: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]], message: str
) -> None:
    with pytest.raises(nox.FormatError, match=message):
        nox.load(_write(tmp_path / "bad.npz", change(_good(tmp_path))))


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
def test_compression_bombs_are_refused_before_anything_is_inflated(tmp_path: Path, compression: int) -> None:
    members = _good(tmp_path)
    members["['w'].npy"] = _npy(np.zeros((2, 3), np.float32))
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, compress_type=compression if name == "['w'].npy" else zipfile.ZIP_STORED)
        archive.writestr("['huge'].npy", b"\0" * (64 << 20), compress_type=compression)  # 64 MiB of zeros
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(nox.FormatError, match=r"member \"\['w'\]\"\.npy is compressed; noxjax reads only stored members"):
        nox.load(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 << 20


def test_a_header_that_claims_a_huge_array_allocates_nothing(tmp_path: Path) -> None:
    members = _good(tmp_path)
    claim = np.lib.format.header_data_from_array_1_0(np.zeros((2, 3), np.float32))
    claim["shape"] = (2, 3 * 2**28)  # 6 GiB of float32
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, claim)
    members["['w'].npy"] = buffer.getvalue() + b"\0" * 24
    tracemalloc.start()
    with pytest.raises(nox.FormatError, match=r"has shape \[2, 805306368\]; its entry says \[2, 3\]"):
        nox.load(_write(tmp_path / "claims.npz", members))
    assert tracemalloc.get_traced_memory()[1] < 4 << 20
    tracemalloc.stop()


class _Twice:
    """A registered node whose two children share one key: their paths print alike."""

    def __init__(self, a: object, b: object) -> None:
        self.a, self.b = a, b


jax.tree_util.register_pytree_with_keys(
    _Twice,
    lambda t: (((jax.tree_util.GetAttrKey("x"), t.a), (jax.tree_util.GetAttrKey("x"), t.b)), None),
    lambda _, children: _Twice(*children),
)


def test_member_names_for_the_root_and_for_paths_that_print_alike(tmp_path: Path) -> None:
    nox.save(tmp_path / "root.npz", jnp.arange(3))
    assert sorted(np.load(tmp_path / "root.npz", allow_pickle=False).files) == ["<root>", "__noxjax__"]
    nox.save(tmp_path / "twice.npz", _Twice(jnp.zeros(2), jnp.ones(2)))
    with np.load(tmp_path / "twice.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == [".x", ".x_", "__noxjax__"]
        np.testing.assert_array_equal(archive[".x_"], np.ones(2))
    loaded = nox.load(tmp_path / "twice.npz", like=_Twice(jnp.zeros(2), jnp.zeros(2)))
    np.testing.assert_array_equal(loaded.b, np.ones(2))


def test_empty_arrays_of_dtypes_numpy_lacks_are_stored_as_unsigned_ints(tmp_path: Path) -> None:
    tree = {"bf16": jnp.zeros((0, 3), jnp.bfloat16), "f8": jnp.zeros((2, 0), jnp.float8_e4m3fn)}
    nox.save(tmp_path / "e.npz", tree)
    with np.load(tmp_path / "e.npz", allow_pickle=False) as archive:
        assert (archive["['bf16']"].dtype, archive["['bf16']"].shape) == (np.dtype("uint16"), (0, 3))
        assert (archive["['f8']"].dtype, archive["['f8']"].shape) == (np.dtype("uint8"), (2, 0))
    loaded = nox.load(tmp_path / "e.npz")
    assert (loaded["bf16"].dtype, loaded["bf16"].shape) == (jnp.bfloat16, (0, 3))
