"""Sharding rules on one device (noxjax/_sharding.py); tests/multidevice/ has the
8-device checks (divisibility, training, checkpoints)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import noxjax as nox


class Dense(nox.Module):
    w: jax.Array = nox.field(axes=("embed", "hidden"))
    b: jax.Array = nox.field(axes=("hidden",))
    bias_free: bool = False


@pytest.fixture
def one() -> Mesh:
    return Mesh(np.array(jax.devices()[:1]).reshape(1, 1), ("data", "model"))


def test_axes_through_rules_specs_first_and_non_arrays_replicated(one: Mesh) -> None:
    tree = {"dense": Dense(jnp.ones((4, 8)), jnp.ones(8)), "step": 3, "plain": jnp.ones((2, 2))}
    sh = nox.shardings(tree, one, rules={"hidden": "model", "embed": ("data",)}, specs={"['plain']": P("data", None)})
    assert sh["dense"].w == NamedSharding(one, P(("data",), "model")) and sh["dense"].b.spec == P("model")
    assert sh["plain"].spec == P("data", None) and sh["step"].spec == P()
    assert jax.tree_util.tree_structure(sh) == jax.tree_util.tree_structure(tree)
    unmapped = nox.shardings(tree, one, rules={"other": "model"})
    assert unmapped["dense"].w.spec == P(None, None)  # a name without a rule is replicated


def test_the_innermost_field_decides_and_stacked_arrays_need_specs(one: Mesh) -> None:
    class Outer(nox.Module):
        inner: Dense = nox.field(axes=("ignored",))

    sh = nox.shardings(Outer(Dense(jnp.ones((4, 8)), jnp.ones(8))), one, rules={"embed": "data"})
    assert sh.inner.w.spec == P("data", None)
    stacked = nox.stack([Dense(jnp.ones((4, 8)), jnp.ones(8))] * 2)
    ok = nox.shardings(stacked, one, specs={".w": P(None, "data", None), ".b": P(None, None)})
    assert ok.w.spec == P(None, "data", None)


def test_shard_places_arrays_and_annotates_abstract_leaves(one: Mesh) -> None:
    abstract = jax.eval_shape(lambda: Dense(jnp.ones((4, 8)), jnp.ones(8)))
    placed = nox.shard({"abstract": abstract, "real": jnp.ones(3), "n": 2}, one, specs={"['real']": P("model")})
    assert isinstance(placed["abstract"].w, jax.ShapeDtypeStruct) and placed["abstract"].w.sharding.mesh is one
    assert placed["real"].sharding == NamedSharding(one, P("model")) and placed["n"] == 2
    assert nox.shard({}, one) == {}


@pytest.mark.parametrize(
    ("tree", "rules", "specs", "message"),
    [
        ({"x": jnp.ones(4)}, None, {"['x']": P("gpu")}, r"\['x'\]: PartitionSpec\('gpu'\) does not fit the array of shape \(4,\): the mesh has no axis 'gpu' \(its axes: \{'data': 1, 'model': 1\}\)"),
        ({"x": jnp.ones(4)}, None, {"['x']": P("data", "model")}, r"it has 2 entries but the array has 1 dimensions"),
        ({"x": jnp.ones((4, 4))}, None, {"['x']": P("data", "data")}, r"mesh axis 'data' is used twice"),
        ({"x": jnp.ones((4, 4))}, None, {"['x']": P(("data", 5))}, r"entry \('data', 5\) is not a mesh axis name, a tuple of names, or None"),
        ({"x": jnp.ones(4)}, None, {"['x']": ("data",)}, r"\['x'\]: specs= maps a where to a PartitionSpec, got \('data',\)"),
        (jnp.ones(4), None, {"['x']": P()}, r"specs entry \"\['x'\]\" decides no array's spec .* paths look like the root"),
        (Dense(jnp.ones((4, 8, 2)), jnp.ones(8)), {"hidden": "model"}, None, r"\.w: the field declares axes \('embed', 'hidden'\) \(2 dimensions\), but the array has shape \(4, 8, 2\)"),
        (Dense(jnp.ones((4, 8)), jnp.ones(8)), {"hidden": "tensor"}, None, r"\.w: PartitionSpec\(None, 'tensor'\) .* the mesh has no axis 'tensor'"),
    ],
    ids=["unknown-axis", "rank", "twice", "bad-entry", "not-a-spec", "unused", "axes-rank", "rule-axis"],
)
def test_bad_rules_and_specs(one: Mesh, tree: Any, rules: Any, specs: Any, message: str) -> None:
    with pytest.raises(nox.ShardingError, match=message):
        nox.shardings(tree, one, rules=rules, specs=specs)
    with pytest.raises(nox.ShardingError, match=message):
        nox.shard(tree, one, rules=rules, specs=specs)


def test_load_with_mesh_on_one_device(one: Mesh, tmp_path: Any) -> None:
    model = Dense(jnp.arange(32.0).reshape(4, 8), jnp.ones(8))
    nox.save(tmp_path / "m.nox", {"m": model, "key": jax.random.key(0), "step": 1})
    loaded = nox.load(tmp_path / "m.nox", mesh=one, rules={"hidden": "model"})
    assert loaded["m"].w.sharding == NamedSharding(one, P(None, "model")) and loaded["step"] == 1
    np.testing.assert_array_equal(loaded["m"].w, model.w)
    assert jnp.issubdtype(loaded["key"].dtype, jax.dtypes.prng_key)


def test_a_predicate_in_specs_sees_the_leaf(one: Mesh) -> None:
    tree = {"matrix": jnp.ones((2, 2)), "vector": jnp.ones(2)}
    sh = nox.shardings(tree, one, specs={lambda path, x: x.ndim == 2: P("data", None), "['vector']": P()})
    assert sh["matrix"].spec == P("data", None) and sh["vector"].spec == P()


def test_shard_checks_specs_on_non_array_leaves_as_shardings_does(one: Mesh) -> None:
    for fn in (nox.shardings, nox.shard):
        with pytest.raises(nox.ShardingError, match=r"\['step'\]: PartitionSpec\('data'\) does not fit the array of shape \(\): it has 1 entries"):
            fn({"step": 3}, one, specs={"['step']": P("data")})
