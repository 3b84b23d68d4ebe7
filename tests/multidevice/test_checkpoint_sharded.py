"""Sharded native checkpoints on 8 CPU devices (noxjax/_checkpoint/_slices.py and
the mesh= path of nox.load): save on one mesh, restore on others, memory."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import noxjax as nox
from mlp import MLP, RULES


def _mesh(shape: tuple[int, int]) -> Mesh:
    return Mesh(np.array(jax.devices()[:8]).reshape(shape), ("data", "model"))


def _model() -> MLP:
    return MLP.init(jax.random.key(0), 8, 16)


def _assert_equal_values(a: Any, b: Any) -> None:
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("shape", [(4, 2), (8, 1), (2, 4)])
def test_save_on_one_mesh_restore_on_another(tmp_path: Path, shape: tuple[int, int]) -> None:
    model = _model()
    nox.save(tmp_path / "m.nox", {"model": nox.shard(model, _mesh((2, 4)), rules=RULES), "step": 3})
    mesh = _mesh(shape)
    loaded = nox.load(tmp_path / "m.nox", mesh=mesh, rules=RULES)
    _assert_equal_values(loaded, {"model": model, "step": 3})
    assert loaded["model"].w1.sharding == NamedSharding(mesh, P(None, "model"))
    assert loaded["model"].w2.sharding == NamedSharding(mesh, P("model", None))
    assert loaded["model"].b2.sharding.is_fully_replicated and loaded["step"] == 3


def test_restore_on_one_device_and_with_sharded_like(tmp_path: Path) -> None:
    model = _model()
    nox.save(tmp_path / "m.nox", nox.shard(model, _mesh((2, 4)), rules=RULES))
    plain = nox.load(tmp_path / "m.nox")
    _assert_equal_values(plain, model)
    assert len(plain.w1.sharding.device_set) == 1
    mesh = _mesh((4, 2))
    like = nox.shard(jax.eval_shape(lambda: model), mesh, specs={".w1": P("data", "model")})
    loaded = nox.load(tmp_path / "m.nox", like=like)
    assert loaded.w1.sharding == NamedSharding(mesh, P("data", "model"))
    assert loaded.w1.addressable_shards[0].data.shape == (2, 8)
    _assert_equal_values(loaded, model)


def test_mesh_applies_to_file_objects_and_npz_too(tmp_path: Path) -> None:
    model = _model()
    mesh = _mesh((2, 4))
    nox.save(tmp_path / "m.npz", model)
    from_npz = nox.load(tmp_path / "m.npz", mesh=mesh, rules=RULES)
    from_bytes = nox.load(io.BytesIO(nox.dumps(model)), mesh=mesh, rules=RULES)
    for loaded in (from_npz, from_bytes):
        _assert_equal_values(loaded, model)
        assert loaded.w1.sharding == NamedSharding(mesh, P(None, "model"))


def test_every_slice_layout_reads_the_right_values(tmp_path: Path) -> None:
    tree = {"m": jnp.arange(8 * 16 * 2, dtype=jnp.int32).reshape(8, 16, 2), "s": jnp.float32(2.5), "keys": jax.random.split(jax.random.key(1), 8)}
    nox.save(tmp_path / "t.nox", tree)
    mesh = _mesh((2, 4))
    for spec in [P("data", "model"), P(None, "model"), P("model", None, None), P(None, ("data", "model")), P()]:
        loaded = nox.load(tmp_path / "t.nox", mesh=mesh, specs={"['m']": spec})
        assert loaded["m"].sharding.spec == spec
        np.testing.assert_array_equal(loaded["m"], tree["m"])
        for shard in loaded["m"].addressable_shards:
            np.testing.assert_array_equal(shard.data, np.asarray(tree["m"])[shard.index])
        assert float(loaded["s"]) == 2.5
        np.testing.assert_array_equal(jax.random.key_data(loaded["keys"]), jax.random.key_data(tree["keys"]))


def test_sliced_reads_check_checksums(tmp_path: Path) -> None:
    model = _model()
    nox.save(tmp_path / "m.nox", model)
    data = bytearray((tmp_path / "m.nox").read_bytes())
    data[data.find(np.asarray(model.w2).tobytes()) + 5] ^= 1
    (tmp_path / "m.nox").write_bytes(bytes(data))
    with pytest.raises(nox.FormatError, match=r"checksum of array '\.w2'"):
        nox.load(tmp_path / "m.nox", mesh=_mesh((2, 4)), rules=RULES)
    loaded = nox.load(tmp_path / "m.nox", mesh=_mesh((2, 4)), rules=RULES, verify=False)
    assert not np.array_equal(loaded.w2, model.w2) and np.array_equal(loaded.w1, model.w1)


def test_mmap_takes_no_mesh(tmp_path: Path) -> None:
    nox.save(tmp_path / "m.nox", _model())
    with pytest.raises(nox.ArgumentError, match="mmap=True returns numpy arrays on the host; it takes no mesh="):
        nox.load(tmp_path / "m.nox", mmap=True, mesh=_mesh((2, 4)))


def test_bad_rules_at_load_are_sharding_errors(tmp_path: Path) -> None:
    nox.save(tmp_path / "m.nox", MLP.init(jax.random.key(0), 8, 6))
    with pytest.raises(nox.ShardingError, match=r"\.w1: PartitionSpec\(None, 'model'\) does not fit .* \(8, 6\)"):
        nox.load(tmp_path / "m.nox", mesh=_mesh((2, 4)), rules=RULES)


def _peak_extra(fn: Any) -> tuple[Any, int]:
    """fn's result, and the peak traced host memory beyond what the result keeps."""
    tracemalloc.start()
    try:
        result = jax.block_until_ready(fn())
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - current


def test_sharded_save_and_restore_stay_far_below_the_model_size(tmp_path: Path) -> None:
    mesh = _mesh((2, 4))
    model = {f"layer{i}": nox.shard(MLP.init(jax.random.key(i), 256, 1024), mesh, rules=RULES) for i in range(8)}
    size = sum(x.nbytes for x in jax.tree_util.tree_leaves(model))  # 16 MB
    _, saved = _peak_extra(lambda: nox.save(tmp_path / "m.nox", model))
    loaded, restored = _peak_extra(lambda: nox.load(tmp_path / "m.nox", mesh=_mesh((4, 2)), rules=RULES))
    assert saved < size / 2 and restored < size / 2, (saved, restored, size)
    _assert_equal_values(loaded, model)
