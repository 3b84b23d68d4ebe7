"""Pytree registration: key paths, FieldKey, tree.map, vmap, scan, jit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import pytest

import noxjax as nox
from conftest import Linear


class Tagged(nox.Module):
    w: jax.Array = nox.field(tags=("no_decay",), metadata={"unit": "m"})
    frozen: jax.Array = nox.field(default_factory=lambda: jnp.zeros(2), tags="frozen")


def test_keystr_and_field_keys(linear: Linear) -> None:
    model = nox.Sequential([linear, jax.nn.relu, linear])
    paths = [jtu.keystr(p) for p, _ in jtu.tree_leaves_with_path(model)]
    assert paths == [".layers[0].w", ".layers[0].b", ".layers[2].w", ".layers[2].b"]
    path = jtu.tree_leaves_with_path(model)[0][0]
    first = path[0]
    assert isinstance(first, nox.FieldKey) and isinstance(first, jtu.GetAttrKey)
    assert first.owner is nox.Sequential and path[-1].owner is Linear
    assert path[-1] == jtu.GetAttrKey("w") and hash(path[-1]) == hash(jtu.GetAttrKey("w"))


def test_field_keys_equal_and_hash_as_get_attr_keys(linear: Linear) -> None:
    key = jax.tree_util.tree_flatten_with_path(linear)[0][0][0][0]
    assert isinstance(key, nox.FieldKey) and key.name == "w"
    assert key == jtu.GetAttrKey("w") and hash(key) == hash(jtu.GetAttrKey("w"))
    assert key != jtu.GetAttrKey("b") and key != jtu.DictKey("w") and key != "w"


def test_field_key_carries_tags_and_metadata() -> None:
    m = Tagged(jnp.ones(2))
    keys = {p[-1].name: p[-1] for p, _ in jtu.tree_leaves_with_path(m)}
    assert keys["w"].tags == ("no_decay",) and keys["frozen"].tags == ("frozen",)
    assert keys["w"].metadata == {"unit": "m"} and keys["frozen"].metadata == {}
    assert "FieldKey(name='w', owner=Tagged" in repr(keys["w"])


def test_tree_map_to_none_and_bools_keeps_structure(linear: Linear) -> None:
    nones = jax.tree.map(lambda _: None, linear)
    assert type(nones) is Linear and nones.w is None and nones.n == 3
    mask = jax.tree.map(lambda x: x.ndim == 2, linear)
    assert mask.w is True and mask.b is False
    assert jax.tree.structure(mask) == jax.tree.structure(linear)


def test_unflatten_does_not_run_init(linear: Linear) -> None:
    leaves, treedef = jtu.tree_flatten(linear)
    sentinel = object()
    rebuilt = jtu.tree_unflatten(treedef, [sentinel, sentinel])
    assert rebuilt.w is sentinel and rebuilt.activation == "relu"
    with pytest.raises(nox.FrozenError):
        rebuilt.w = 1  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]


def test_vmap_over_a_batch_of_modules() -> None:
    keys = jax.random.split(jax.random.key(0), 5)
    batch = jax.vmap(lambda k: Linear.init(k, 3, 2))(keys)  # created inside a trace
    assert batch.w.shape == (5, 2, 3) and batch.n == 3
    out = jax.vmap(lambda m, x: m(x), in_axes=(0, None))(batch, jnp.ones(3))
    assert out.shape == (5, 2)
    one = jax.tree.map(lambda x: x[1], batch)
    assert jnp.allclose(out[1], one(jnp.ones(3)))


def test_module_as_scan_carry(linear: Linear) -> None:
    def step(m: Linear, _: None) -> tuple[Linear, jax.Array]:
        return nox.replace(m, b=m.b + 1), m.b.sum()

    final, sums = jax.lax.scan(step, linear, None, length=4)
    assert jnp.allclose(final.b, 4.0) and sums.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_modules_created_inside_jit_from_tracers() -> None:
    @jax.jit
    def build(w: jax.Array) -> Linear:
        return Linear(w=w * 2, b=jnp.zeros(w.shape[0]), n=7)

    m = build(jnp.ones((2, 3)))
    assert isinstance(m.w, jax.Array) and m.n == 7 and float(m.w[0, 0]) == 2.0


def test_flatten_with_path_and_unflatten_with_mixed_and_frozendict() -> None:
    class Holder(nox.Module):
        parts: object

    m = Holder({"enc": Linear(jnp.ones((1, 1)), jnp.ones(1)), "act": jax.nn.relu, "k": [1, 2]})
    leaves = jtu.tree_leaves_with_path(m)
    assert [jtu.keystr(p) for p, _ in leaves] == [".parts['enc'].w", ".parts['enc'].b"]
    rebuilt = jtu.tree_unflatten(jtu.tree_structure(m), [x for _, x in leaves])
    assert rebuilt == m and rebuilt.parts["k"] == (1, 2)
