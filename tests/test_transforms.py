"""VMap, Grad, ValueAndGrad, Remat, Scan, stack/unstack."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
import pytest

import ckpt_models
import noxjax as nox


class Linear(nox.Module):
    w: jax.Array
    b: jax.Array
    steps: int = 1

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.tanh(self.w @ x + self.b)


class MLP(nox.Module):
    layers: tuple[Linear, ...]

    @classmethod
    def init(cls, key: jax.Array, width: int = 8) -> "MLP":
        k1, k2 = jax.random.split(key)
        return cls((Linear(jax.random.normal(k1, (width, 2)) * 0.5, jnp.zeros(width)),
                    Linear(jax.random.normal(k2, (1, width)) * 0.5, jnp.zeros(1))))

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers:
            x = layer(x)
        return x


def loss(model: Any, x: jax.Array) -> jax.Array:
    return jnp.sum(model(x) ** 2)


def test_grad_wrt_glob_matches_jax_grad_with_the_rest_closed_over() -> None:
    model = MLP.init(jax.random.key(0))
    x = jnp.array([0.3, -0.2])
    grads = nox.Grad(loss, wrt="**.w")(model, x)
    assert isinstance(grads, MLP) and grads.layers[0].b is None and grads.layers[0].w is not None
    ws = [layer.w for layer in model.layers]

    def closed(ws: list[jax.Array]) -> jax.Array:
        m = MLP(tuple(nox.replace(l, w=w) for l, w in zip(model.layers, ws)))
        return loss(m, x)

    expected = jax.grad(closed)(ws)
    for got, want in zip((g.w for g in grads.layers), expected):
        assert jnp.allclose(got, want)


def test_integer_leaves_are_never_differentiated() -> None:
    class WithCounts(nox.Module):
        w: jax.Array
        counts: jax.Array

    m = WithCounts(jnp.ones(2), jnp.arange(2))
    grads = nox.Grad(lambda m: jnp.sum(m.w * m.counts))(m)
    assert grads.counts is None and grads.w.tolist() == [0.0, 1.0]
    value, grads = nox.ValueAndGrad(lambda m: (jnp.sum(m.w), 7), has_aux=True)(m)
    assert value[1] == 7 and grads.w.tolist() == [1.0, 1.0]
    grads, aux = nox.grad(lambda m: (jnp.sum(m.w), "aux"), has_aux=True)(m)
    assert aux == "aux"


def test_grad_with_tags_and_static_arguments() -> None:
    class Tagged(nox.Module):
        w: jax.Array
        frozen: jax.Array = nox.field(tags=("frozen",))

    def f(m: Tagged, power: int) -> jax.Array:
        assert isinstance(power, int)
        return jnp.sum(m.w**power + m.frozen)

    grads = nox.Grad(f, wrt=lambda p, x: nox.tag("frozen") is not None and p[-1].name != "frozen")(Tagged(jnp.ones(2), jnp.ones(2)), 3)
    assert grads.frozen is None and grads.w.tolist() == [3.0, 3.0]


def test_ensemble_of_8_mlps_trained_with_optax() -> None:
    keys = jax.random.split(jax.random.key(1), 8)
    ensemble = nox.stack([MLP.init(k) for k in keys])
    assert ensemble.layers[0].w.shape == (8, 8, 2)
    xs = jax.random.uniform(jax.random.key(2), (64, 2), minval=-1, maxval=1)
    ys = (xs[:, :1] * xs[:, 1:]) * 0.5

    def mse(ens: MLP) -> jax.Array:
        # outer: one member per slice of ens's arrays (fn_axis=0); inner: the batch
        per_member = nox.VMap(nox.VMap(ens), in_axes=None, fn_axis=0)(xs)
        assert per_member.shape == (8, 64, 1)
        return jnp.mean((per_member - ys[None]) ** 2)

    tx = optax.adam(1e-2)
    state = tx.init(ensemble)

    @nox.jit
    def step(ens: MLP, state: Any) -> tuple[MLP, Any, jax.Array]:
        value, grads = nox.ValueAndGrad(lambda e: mse(e))(ens)
        updates, state = tx.update(grads, state, ens)
        return optax.apply_updates(ens, updates), state, value

    first = float(mse(ensemble))
    for _ in range(150):
        ensemble, state, value = step(ensemble, state)
    assert float(value) < first / 4
    members = nox.unstack(ensemble)
    assert len(members) == 8 and isinstance(members[0], MLP)
    per_member = nox.VMap(ensemble, in_axes=None, fn_axis=0)(xs[0])
    assert per_member.shape == (8, 1)
    assert jnp.allclose(per_member[3], members[3](xs[0]), atol=1e-6)


def test_stack_of_modules_that_differ_is_a_value_error() -> None:
    a, b = Linear(jnp.ones((2, 2)), jnp.ones(2)), Linear(jnp.ones((2, 2)), jnp.ones(2), steps=2)
    with pytest.raises(ValueError, match=r"nox.stack: module 1 differs from module 0 at \.steps \(1 vs 2\)"):
        nox.stack([a, b])
    with pytest.raises(ValueError, match=r"module 1 differs from module 0 at \.b"):
        nox.stack([a, Linear(jnp.ones((2, 2)), None)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        nox.stack([])


def test_scan_over_12_layers_equals_the_loop_and_compiles_once() -> None:
    layers = [Linear(jax.random.normal(k, (4, 4)) * 0.5, jnp.zeros(4)) for k in jax.random.split(jax.random.key(3), 12)]
    stacked = nox.stack(layers)
    calls: list[int] = []

    class Counting(nox.Module):
        inner: Linear

        def __call__(self, x: jax.Array) -> jax.Array:
            calls.append(1)
            return self.inner(x)

    x = jnp.linspace(-1, 1, 4)
    expected = x
    for layer in layers:
        expected = layer(expected)
    out = nox.Scan(nox.stack([Counting(l) for l in layers]))(x)
    assert jnp.allclose(out, expected, atol=1e-6) and len(calls) == 1
    assert jnp.allclose(nox.Jit(nox.Scan(stacked))(x), expected, atol=1e-6)


def test_remat_and_vmap_static_arguments() -> None:
    model = MLP.init(jax.random.key(4))
    x = jnp.array([0.1, 0.2])
    assert jnp.allclose(nox.Remat(model)(x), model(x))
    assert jnp.allclose(jax.grad(lambda m: nox.remat(m)(x).sum())(model).layers[0].w, jax.grad(lambda m: m(x).sum())(model).layers[0].w)

    def scaled(x: jax.Array, factor: int, name: str) -> jax.Array:
        assert isinstance(factor, int) and name == "n"
        return x * factor

    assert nox.vmap(scaled, in_axes=(0, None, None))(jnp.arange(3.0), 2, "n").tolist() == [0.0, 2.0, 4.0]


def test_saved_transforms_load_as_working_equal_modules(tmp_path: Any) -> None:
    model = ckpt_models.Leaf(jnp.arange(3.0))
    jitted = nox.Jit(model.double)
    grad = nox.Grad(ckpt_models.scaled_tanh_loss, wrt="w")
    wheres = [nox.Grad(ckpt_models.scaled_tanh_loss, wrt=w) for w in (nox.tag("frozen"), ckpt_models.Leaf)]
    nox.save(tmp_path / "t.nox", {"jit": jitted, "grad": grad, "vmap": nox.VMap(model.double, in_axes=(0,)), "wheres": wheres})
    loaded = nox.load(tmp_path / "t.nox")
    assert isinstance(loaded["jit"], nox.Jit) and jnp.array_equal(loaded["jit"](2.0), jitted(2.0))
    assert loaded["grad"] == grad and loaded["wheres"] == wheres
    assert loaded["wheres"][0].wrt == nox.tag("frozen") and loaded["wheres"][1].wrt is ckpt_models.Leaf
    assert jnp.allclose(loaded["grad"](model).w, grad(model).w)
    assert jnp.allclose(loaded["wheres"][1](model).w, grad(model).w)
    assert jnp.allclose(loaded["vmap"](jnp.ones((2, 3))), 2 * jnp.arange(3.0) * jnp.ones((2, 3)))


def test_saving_an_unregistered_function_names_it(tmp_path: Any) -> None:
    with pytest.raises(nox.FormatError, match=r"cannot save \.fn = <function .*<lambda>.*register_function"):
        nox.save(tmp_path / "bad.nox", nox.Jit(lambda x: x))
    assert not list(tmp_path.iterdir())


class Apply(nox.Module):
    w: jax.Array

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.w * x


class Scaled(nox.Module):
    w: jax.Array
    rate: float = nox.field(default=0.5, static=False)  # a Python float child


def _loss(m: Scaled, x: jax.Array, *, scale: jax.Array) -> jax.Array:
    return (m.w * x).sum() * m.rate * scale


def test_grad_and_value_and_grad_pass_keyword_arguments_and_differentiate_float_fields() -> None:
    m, x = Scaled(jnp.array([[1.0, 2.0]])), jnp.ones((1, 2))
    grads = nox.grad(_loss)(m, x, scale=jnp.float32(2.0))
    assert grads.w.tolist() == [[1.0, 1.0]] and float(grads.rate) == 6.0  # the float field is differentiated
    value, grads = nox.value_and_grad(_loss, wrt="w")(m, x, scale=jnp.float32(2.0))
    assert float(value) == 3.0 and grads.rate is None and grads.w.tolist() == [[1.0, 1.0]]
    matrices = nox.grad(_loss, wrt=lambda path, leaf: nox.is_array(leaf) and leaf.ndim == 2)(m, x, scale=jnp.float32(1.0))
    assert matrices.rate is None and matrices.w.shape == (1, 2)

    @nox.value_and_grad(has_aux=True)
    def with_aux(model: Scaled) -> tuple[jax.Array, str]:
        return model.w.sum(), "aux"

    (total, aux), _ = with_aux(m)
    assert float(total) == 3.0 and aux == "aux"


def test_vmap_maps_keyword_arguments_tuple_axes_and_its_function() -> None:
    xs, scales = jnp.arange(6.0).reshape(3, 2), jnp.arange(3.0)
    out = nox.vmap(lambda x, *, s: x * s)(xs, s=scales)
    assert out.tolist() == [[0.0, 0.0], [2.0, 3.0], [8.0, 10.0]]
    stacked = nox.stack([Scaled(jnp.full((2,), float(i))) for i in range(3)])
    per_member = nox.vmap(lambda m, x, *, s: m.w * x * s, in_axes=(0, None), fn_axis=None)(stacked, xs[0], s=scales)
    assert per_member.shape == (3, 2)

    members = nox.stack([Apply(jnp.full((2,), float(i))) for i in range(3)])
    by_column = nox.vmap(in_axes=(None,), out_axes=1, fn_axis=0)(members)(xs[1])  # the decorator form
    assert by_column.shape == (2, 3) and by_column[:, 2].tolist() == [4.0, 6.0]
    by_row = nox.vmap(members, in_axes=None, fn_axis=0)(xs[1])
    assert by_row.shape == (3, 2) and by_row[2].tolist() == [4.0, 6.0]
