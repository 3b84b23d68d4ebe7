"""Sharding rules on 8 CPU devices (noxjax/_sharding.py): axes, rules, specs, errors,
and data- and tensor-parallel training with nox.Jit."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import noxjax as nox
from mlp import MLP, RULES, train_steps


def test_field_axes_map_through_rules_and_the_rest_is_replicated(mesh: Mesh) -> None:
    model = MLP.init(jax.random.key(0), 8, 16)
    sh = nox.shardings(model, mesh, rules=RULES)
    assert (sh.w1.spec, sh.b1.spec, sh.w2.spec, sh.b2.spec) == (P(None, "model"), P("model"), P("model", None), P(None))
    assert all(s.mesh is mesh for s in jax.tree_util.tree_leaves(sh))
    assert jax.tree_util.tree_structure(sh) == jax.tree_util.tree_structure(model)
    assert all(s.is_fully_replicated for s in jax.tree_util.tree_leaves(nox.shardings(model, mesh)))  # no rules


def test_specs_override_axes_first_match_wins_and_reach_third_party_trees(mesh: Mesh) -> None:
    model = MLP.init(jax.random.key(0), 8, 16)
    specs = {".w1": P("data", "model"), (lambda path, x: x.ndim == 2): P(None, None)}
    sh = nox.shardings(model, mesh, rules=RULES, specs=specs)
    assert sh.w1.spec == P("data", "model")  # first match
    assert sh.w2.spec == P(None, None)  # a spec wins over the field's axes
    assert sh.b1.spec == P("model")  # axes through rules
    opt = optax.adam(1e-3).init(model)  # optax's state holds the model's FieldKeys: axes apply
    opt_sh = nox.shardings(opt, mesh, rules=RULES)
    assert opt_sh[0].mu.w1.spec == P(None, "model") and opt_sh[0].count.spec == P()
    plain = {"embedding": jnp.zeros((16, 8)), "step": 3}
    plain_sh = nox.shardings(plain, mesh, specs={"['embedding']": P("model")})
    assert plain_sh["embedding"].spec == P("model") and plain_sh["step"].spec == P()


def test_a_predicate_or_tag_selects_specs(mesh: Mesh) -> None:
    tree = {"big": jnp.zeros((8, 8)), "small": jnp.zeros(3)}
    sh = nox.shardings(tree, mesh, specs={lambda path, x: x.size > 10: P("data", "model")})
    assert sh["big"].spec == P("data", "model") and sh["small"].spec == P()


def test_shard_places_arrays_keeps_other_leaves_and_annotates_shape_dtype_structs(mesh: Mesh) -> None:
    model = MLP.init(jax.random.key(0), 8, 16)
    placed = nox.shard({"model": model, "step": 7, "abstract": jax.ShapeDtypeStruct((8, 4), jnp.float32)}, mesh,
                       rules=RULES, specs={"['abstract']": P(None, "model")})
    assert placed["model"].w1.sharding == NamedSharding(mesh, P(None, "model"))
    assert placed["model"].w1.addressable_shards[0].data.shape == (8, 4)
    np.testing.assert_array_equal(placed["model"].w1, model.w1)
    assert placed["step"] == 7
    assert placed["abstract"].sharding == NamedSharding(mesh, P(None, "model"))


@pytest.mark.parametrize(
    ("tree", "rules", "specs", "message"),
    [
        ({"x": jnp.zeros((8, 6))}, None, {"['x']": P(None, "model")},
         r"\['x'\]: PartitionSpec\(None, 'model'\) does not fit the array of shape \(8, 6\): dimension 1 of size 6 "
         r"is not divisible by 4 \(mesh axes \('model',\)\); change the rule or pass specs= for this path"),
        ({"x": jnp.zeros(8)}, None, {"['x']": P(None, "model")},
         r"\['x'\]: .* shape \(8,\): it has 2 entries but the array has 1 dimensions"),
        ({"x": jnp.zeros(8)}, None, {"['x']": P("gpu")},
         r"\['x'\]: .*: the mesh has no axis 'gpu' \(its axes: \{'data': 2, 'model': 4\}\)"),
        ({"x": jnp.zeros((8, 8))}, None, {"['x']": P("data", "data")}, r"\['x'\]: .*mesh axis 'data' is used twice"),
        ({"x": jnp.zeros((8, 8))}, None, {"['x']": P(("data", 5))}, r"entry \('data', 5\) is not a mesh axis name"),
        ({"x": jnp.zeros((8, 8))}, None, {"['x']": "data"}, r"\['x'\]: specs= maps a where to a PartitionSpec, got 'data'"),
        (MLP.init(jax.random.key(0), 8, 6), {"hidden": "model"}, None,
         r"\.w1: PartitionSpec\(None, 'model'\) does not fit the array of shape \(8, 6\): dimension 1 of size 6"),
        (MLP.init(jax.random.key(0), 8, 16), {"hidden": "tensor"}, None, r"\.w1: .*the mesh has no axis 'tensor'"),
        (nox.stack([MLP.init(jax.random.key(0), 8, 16)] * 2), RULES, None,
         r"\.w1: the field declares axes \('embed', 'hidden'\) \(2 dimensions\), but the array has shape \(2, 8, 16\); "
         r"give one axis name \(or None\) per dimension, or pass specs= for it"),
    ],
    ids=["indivisible", "rank", "unknown-axis", "axis-twice", "bad-entry", "not-a-spec", "rule-indivisible",
         "rule-unknown-axis", "axes-rank"],
)
def test_bad_rules_and_specs_name_the_path_shape_and_spec(mesh: Mesh, tree: Any, rules: Any, specs: Any, message: str) -> None:
    for fn in (nox.shardings, nox.shard):
        with pytest.raises(nox.ShardingError, match=message) as info:
            fn(tree, mesh, rules=rules, specs=specs)
        assert isinstance(info.value, ValueError) and isinstance(info.value, nox.NoxError)


@pytest.mark.parametrize("parallel", ["data", "tensor", "both"])
def test_sharded_training_with_nox_jit_equals_one_device(mesh: Mesh, parallel: str) -> None:
    rules = {"data": {}, "tensor": RULES, "both": RULES}[parallel]
    batch_spec = P("data") if parallel in ("data", "both") else P()
    one_device = train_steps(mesh=None, rules=rules, batch_spec=batch_spec)
    sharded = train_steps(mesh=mesh, rules=rules, batch_spec=batch_spec)
    expected = nox.shardings(one_device, mesh, rules=rules)
    for got, want, sharding in zip(jax.tree_util.tree_leaves(sharded), jax.tree_util.tree_leaves(one_device),
                                   jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=2e-5, atol=1e-6)
        assert got.sharding == sharding  # out_shardings as the rules name them


def test_compiled_step_input_and_output_shardings_are_the_rules(mesh: Mesh) -> None:
    model = MLP.init(jax.random.key(0), 8, 16)
    sh = nox.shardings(model, mesh, rules=RULES)
    x = jax.ShapeDtypeStruct((16, 8), jnp.float32)
    compiled = jax.jit(lambda m, x: m(x), in_shardings=(sh, NamedSharding(mesh, P("data"))),
                       out_shardings=NamedSharding(mesh, P("data"))).lower(model, x).compile()
    (model_in, x_in), _ = compiled.input_shardings
    assert [s.spec for s in jax.tree_util.tree_leaves(model_in)] == [P(None, "model"), P("model"), P("model", None), P(None)]
    assert x_in.spec == P("data") and compiled.output_shardings.spec == P("data")


def test_a_specs_entry_that_selects_nothing_is_an_error(mesh: Mesh) -> None:
    with pytest.raises(nox.ShardingError, match=r"specs entry 'x' decides no array's spec \(it selects none, or only arrays an earlier entry took\); the leaves' paths look like \['x'\]\. "
                       r"Globs match whole paths: a dict key is \['key'\], an attribute \.name, any prefix \*\*"):
        nox.shardings({"x": jnp.ones(8)}, mesh, specs={"x": P("data")})
    shadowed = {".w1": P(None, "model"), "**.w1": P("model")}  # the second can never win
    with pytest.raises(nox.ShardingError, match=r"specs entry '\*\*\.w1' decides no array's spec"):
        nox.shardings(MLP.init(jax.random.key(0), 8, 16), mesh, specs=shadowed)


def test_repr_shows_the_sharding_of_sharded_arrays(mesh: Mesh) -> None:
    model = nox.shard(MLP.init(jax.random.key(0), 8, 16), mesh, rules=RULES)
    text = repr(model)
    assert text.startswith("MLP(\n  w1=f32[8,16]@") and "(None, 'model')" in text
    assert "  b2=f32[8],\n" in text  # replicated: no annotation


def test_treescope_shows_the_sharding_of_sharded_fields(mesh: Mesh) -> None:
    treescope = pytest.importorskip("treescope")
    model = nox.shard(MLP.init(jax.random.key(0), 8, 16), mesh, rules=RULES)
    lines = treescope.render_to_text(model).splitlines()
    assert lines[1].startswith("  w1=") and "# sharded " in lines[1] and "'model'" in lines[1]
    assert "over mesh {'data': 2, 'model': 4}" in lines[1]
    assert lines[4].startswith("  b2=") and "#" not in lines[4].split(">,")[-1]  # replicated: no note
