"""noxjax.orbax on 8 CPU devices: save on one mesh, restore on others."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

ocp = pytest.importorskip("orbax.checkpoint", minversion="0.12")
import optax  # noqa: E402

import noxjax as nox  # noqa: E402
import noxjax.orbax  # noqa: E402
from mlp import MLP, RULES  # noqa: E402


def _mesh(shape: tuple[int, int]) -> Mesh:
    return Mesh(np.array(jax.devices()[:8]).reshape(shape), ("data", "model"))


@pytest.mark.parametrize("shape", [(4, 2), (8, 1), None])
def test_save_on_2x4_restore_on_other_meshes(tmp_path: Path, shape: tuple[int, int] | None) -> None:
    mesh = _mesh((2, 4))
    model = nox.shard(MLP.init(jax.random.key(0), 8, 16), mesh, rules=RULES)
    state = {"model": model, "opt": nox.shard(optax.adam(1e-3).init(model), mesh, rules=RULES), "step": 5}
    noxjax.orbax.save(tmp_path / "ckpt", state)
    if shape is None:
        loaded = noxjax.orbax.load(tmp_path / "ckpt")
        assert len(loaded["model"].w1.sharding.device_set) == 1
    else:
        target = _mesh(shape)
        loaded = noxjax.orbax.load(tmp_path / "ckpt", mesh=target, rules=RULES)
        assert loaded["model"].w1.sharding == NamedSharding(target, P(None, "model"))
        assert loaded["opt"][0].nu.w2.sharding == NamedSharding(target, P("model", None))
    assert loaded["step"] == 5 and type(loaded["model"]) is MLP
    for x, y in zip(jax.tree_util.tree_leaves(loaded), jax.tree_util.tree_leaves(state)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_restore_into_like_shardings_and_with_specs(tmp_path: Path) -> None:
    model = MLP.init(jax.random.key(0), 8, 16)
    with ocp.CheckpointManager(tmp_path) as manager:
        manager.save(0, args=noxjax.orbax.Save(nox.shard(model, _mesh((2, 4)), rules=RULES)))
        manager.wait_until_finished()
        like = nox.shard(jax.eval_shape(lambda: model), _mesh((4, 2)), specs={".w1": P("data", "model")})
        from_like = manager.restore(0, args=noxjax.orbax.Restore(like=like))
        from_specs = manager.restore(0, args=noxjax.orbax.Restore(mesh=_mesh((4, 2)), specs={".b1": P("data")}))
    assert from_like.w1.sharding.spec == P("data", "model")
    assert from_specs.b1.sharding.spec == P("data") and from_specs.w1.sharding.is_fully_replicated
    np.testing.assert_array_equal(from_like.w2, model.w2)
