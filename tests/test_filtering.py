"""partition, combine, filter, map_where, labels, labeler, with optax."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import noxjax as nox


class Embedding(nox.Module):
    table: jax.Array


class Linear(nox.Module):
    w: jax.Array
    b: jax.Array

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.w @ x + self.b


class Net(nox.Module):
    emb: Embedding = nox.field(tags=("frozen",))
    body: nox.Sequential

    @classmethod
    def init(cls, key: jax.Array) -> "Net":
        k1, k2, k3 = jax.random.split(key, 3)
        lin = lambda k, i, o: Linear(jax.random.normal(k, (o, i)) * 0.3, jnp.zeros(o))  # noqa: E731
        return cls(Embedding(jax.random.normal(k1, (10, 4))), nox.Sequential([lin(k2, 4, 8), jax.nn.tanh, lin(k3, 8, 1)]))

    def __call__(self, token: jax.Array) -> jax.Array:
        return self.body(self.emb.table[token])


def _data() -> tuple[jax.Array, jax.Array]:
    tokens = jnp.arange(10)
    return tokens, jnp.sin(tokens.astype(jnp.float32))[:, None]


def _loss(model: Net, tokens: jax.Array, ys: jax.Array) -> jax.Array:
    return jnp.mean((jax.vmap(model)(tokens) - ys) ** 2)


def _assert_frozen_and_trained(before: Net, after: Net) -> None:
    assert np.array_equal(np.asarray(after.emb.table), np.asarray(before.emb.table))  # bit-identical
    assert not np.array_equal(np.asarray(after.body.layers[0].w), np.asarray(before.body.layers[0].w))


OLD_OPTAX = tuple(int(p) for p in optax.__version__.split(".")[:3]) < (0, 2, 4)


@pytest.mark.skipif(OLD_OPTAX, reason="optax < 0.2.4 calls any callable mask tree, and modules with __call__ are callable")
def test_freeze_embedding_with_optax_multi_transform() -> None:
    model = Net.init(jax.random.key(0))
    tx = optax.multi_transform(
        {"train": optax.adam(1e-2), "frozen": optax.set_to_zero()},
        nox.labeler({"frozen": nox.tag("frozen")}, default="train"),
    )
    state = tx.init(model)
    tokens, ys = _data()

    @jax.jit
    def step(m: Net, s: Any) -> tuple[Net, Any, jax.Array]:
        loss, grads = jax.value_and_grad(_loss)(m, tokens, ys)
        updates, s = tx.update(grads, s, m)
        return optax.apply_updates(m, updates), s, loss

    trained, first_loss = model, None
    for _ in range(100):
        trained, state, loss = step(trained, state)
        first_loss = first_loss if first_loss is not None else loss
    _assert_frozen_and_trained(model, trained)
    assert float(loss) < float(first_loss)


def test_freeze_with_partition_and_combine_around_grad() -> None:
    model = Net.init(jax.random.key(1))
    tokens, ys = _data()
    frozen, params = nox.partition(model, nox.tag("frozen"))
    assert nox.paths(frozen) == [".emb.table"]

    @jax.jit
    def step(params: Net) -> Net:
        grads = jax.grad(lambda p: _loss(nox.combine(p, frozen), tokens, ys))(params)
        return jax.tree.map(lambda p, g: p - 0.1 * g, params, grads)

    for _ in range(20):
        params = step(params)
    _assert_frozen_and_trained(model, nox.combine(frozen, params))


def test_weight_decay_only_on_w_with_optax_masked() -> None:
    model = Net.init(jax.random.key(2))
    zero_grads = jax.tree.map(jnp.zeros_like, model)
    tx = optax.masked(optax.add_decayed_weights(0.5), nox.labeler({True: "**.w"}, default=False))
    updates, _ = tx.update(zero_grads, tx.init(model), model)
    assert jnp.allclose(updates.body.layers[0].w, 0.5 * model.body.layers[0].w)
    assert jnp.all(updates.body.layers[0].b == 0) and jnp.all(updates.emb.table == 0)
    mask = nox.labels(model, {True: "**.w"}, default=False)
    assert mask.body.layers[0].w is True and mask.emb.table is False


def test_labels_without_default_names_the_unmatched_path() -> None:
    model = Net.init(jax.random.key(3))
    with pytest.raises(nox.LabelError, match=r"the leaf at \.emb\.table matches none of the rules \['w', 'b'\]"):
        nox.labels(model, {"w": "**.w", "b": "**.b"})
    labels = nox.labels(model, {"w": "**.w", "any": "**"})  # first matching rule wins
    assert labels.body.layers[0].w == "w" and labels.body.layers[0].b == "any"


def test_map_where_and_filter() -> None:
    model = Net.init(jax.random.key(4))
    zeroed = nox.map_where(model, "body.**", jnp.zeros_like)
    assert isinstance(zeroed, Net) and jnp.all(zeroed.body.layers[2].w == 0)
    assert zeroed.emb.table is model.emb.table
    assert nox.filter(model, "**.b").body.layers[0].w is None
    assert nox.filter(model, "missing") == jax.tree.map(lambda _: None, model)


def test_combine_errors_and_precedence() -> None:
    a = {"x": 1, "y": None}
    b = {"x": 2, "y": 3}
    assert nox.combine(a, b) == {"x": 1, "y": 3}
    with pytest.raises(ValueError, match="nox.combine: tree 1 has another structure"):
        nox.combine({"x": 1}, {"z": 1})
    with pytest.raises(TypeError, match="at least one tree"):
        nox.combine()


def test_stacked_modules_have_the_same_paths() -> None:
    stacked = jax.vmap(lambda k: Linear(jax.random.normal(k, (2, 2)), jnp.zeros(2)))(jax.random.split(jax.random.key(0), 3))
    selected, rest = nox.partition(stacked, "w")
    assert selected.w.shape == (3, 2, 2) and selected.b is None and rest.b.shape == (3, 2)


def _trees() -> st.SearchStrategy[Any]:
    arrays = st.integers(0, 3).map(lambda n: jnp.arange(n, dtype=jnp.float32))
    leaves = arrays | st.none()
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text("abc", min_size=1, max_size=2), children, max_size=3)
        | st.tuples(children, children).map(lambda t: Linear(t[0], t[1])),
        max_leaves=10,
    )


@settings(max_examples=60, deadline=None)
@given(_trees(), st.sampled_from(["**.w", "**", "[0]", "['a'].**", "nothing", nox.tag("x"), Linear]))
def test_partition_then_combine_is_identity(tree: Any, where: nox.Where) -> None:
    selected, rest = nox.partition(tree, where)
    none_leaf = lambda x: x is None  # noqa: E731
    assert jax.tree.structure(selected, is_leaf=none_leaf) == jax.tree.structure(rest, is_leaf=none_leaf)
    again = nox.combine(selected, rest)
    assert jax.tree.structure(again) == jax.tree.structure(tree)
    for x, y in zip(jax.tree.leaves(again), jax.tree.leaves(tree)):
        assert x is y


def test_predicates_and_one_glob_over_different_trees() -> None:
    small = {"w": jnp.ones(2), "b": jnp.zeros(3)}
    large = {"w": jnp.ones((2, 2)), "b": jnp.zeros(3), "extra": {"w": jnp.ones(1)}}
    doubled = nox.map_where(small, lambda path, leaf: leaf.shape == (2,), lambda x: 2 * x)
    assert doubled["w"].tolist() == [2.0, 2.0] and doubled["b"].tolist() == [0.0, 0.0, 0.0]
    assert nox.labels(small, {"vector2": lambda path, leaf: leaf.shape == (2,)}, default="other") == {"w": "vector2", "b": "other"}
    for tree in (small, large, small):  # a mask cached for one tree is never used for another
        zeroed = nox.map_where(tree, "**['w']", jnp.zeros_like)
        assert all(float(x.sum()) == 0 for path, x in jax.tree_util.tree_flatten_with_path(zeroed)[0] if "'w'" in jax.tree_util.keystr(path))
        labelled = nox.labels(tree, {"w": "**['w']"}, default="rest")
        assert jax.tree.leaves(labelled).count("w") == (2 if tree is large else 1)
    with pytest.raises(nox.LabelError, match=r"the leaf at <root> matches none of the rules \['w'\]"):
        nox.labels(jnp.ones(2), {"w": "w"})


def test_partition_halves_hold_none_where_the_other_has_the_leaf() -> None:
    tree = {"w": jnp.ones(2), "b": jnp.zeros(2)}
    selected, rest = nox.partition(tree, "['w']")
    assert selected["b"] is None and rest["w"] is None
    assert selected["w"] is tree["w"] and rest["b"] is tree["b"]
