"""The static rule: what is traced, what is static, and how statics compare."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import noxjax as nox
from conftest import Linear


class Holder(nox.Module):
    value: Any


class Hyper(nox.Module):
    w: jax.Array
    depth: int = 2
    name: str = "mlp"
    rate: float = 0.1
    shape: tuple[int, ...] = (4, 4)
    dtype: Any = jnp.float32
    use_bias: bool = True

    def __call__(self, x: jax.Array) -> jax.Array:
        assert isinstance(self.depth, int) and isinstance(self.name, str)
        for _ in range(self.depth):
            x = jnp.tanh(self.w @ x) * self.rate
        return x.astype(self.dtype)


def _counting_jit() -> tuple[Any, list[int]]:
    traces: list[int] = []

    @jax.jit
    def f(m: Any, x: jax.Array) -> jax.Array:
        traces.append(1)
        return m(x) if callable(m) else x

    return f, traces


def test_only_arrays_are_leaves() -> None:
    m = Hyper(jnp.ones((4, 4)))
    assert jax.tree.leaves(m) == [m.w]
    assert jax.tree.map(lambda _: None, m).depth == 2


def test_grad_and_jit_with_static_fields_do_not_trace_ints() -> None:
    m = Hyper(jnp.eye(4))
    grads = jax.grad(lambda m, x: m(x).sum())(m, jnp.ones(4))
    assert grads.w.shape == (4, 4) and grads.depth == 2 and grads.dtype is jnp.float32
    f, traces = _counting_jit()
    f(m, jnp.ones(4))
    f(nox.replace(m, w=jnp.zeros((4, 4))), jnp.ones(4))  # new values: cached
    assert len(traces) == 1
    f(nox.replace(m, depth=3), jnp.ones(4))  # a static changed: retrace
    assert len(traces) == 2


def test_statics_compare_type_strictly_and_nan_equals_nan() -> None:
    f, traces = _counting_jit()
    for value in (1, 1.0, True, 1, 1.0, True):
        f(Holder(value), jnp.ones(1))
    assert len(traces) == 3
    f(Holder(float("nan")), jnp.ones(1))
    f(Holder(float("nan")), jnp.ones(1))
    f(Holder((1, float("nan"))), jnp.ones(1))
    f(Holder((1, float("nan"))), jnp.ones(1))
    assert len(traces) == 5
    f(Holder(np.dtype("float32")), jnp.ones(1))
    f(Holder("float32"), jnp.ones(1))
    assert len(traces) == 7


def test_mixed_container_keeps_non_arrays_static(linear: Linear) -> None:
    m = Holder((linear, jax.nn.relu, 3))
    assert m.value[1] is jax.nn.relu and m.value[2] == 3
    assert len(jax.tree.leaves(m)) == 2
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(m)]
    assert paths == [".value[0].w", ".value[0].b"]
    doubled = jax.tree.map(lambda x: 2 * x, m)
    assert type(doubled.value) is tuple and doubled.value[1] is jax.nn.relu
    assert jnp.array_equal(doubled.value[0].w, 2 * linear.w)
    swapped = Holder((jax.nn.relu, {"z": 1, "a": linear}))
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(swapped)]
    assert paths == [".value[1]['a'].w", ".value[1]['a'].b"]
    assert jax.jit(lambda m: m)(swapped) == swapped


def test_field_that_is_array_in_one_instance_and_none_in_another() -> None:
    class MaybeBias(nox.Module):
        w: jax.Array
        b: jax.Array | None = None

    with_bias, without = MaybeBias(jnp.ones(2), jnp.ones(2)), MaybeBias(jnp.ones(2))
    assert len(jax.tree.leaves(with_bias)) == 2 and len(jax.tree.leaves(without)) == 1
    f, traces = _counting_jit()
    f(with_bias, jnp.ones(1))
    f(without, jnp.ones(1))
    assert len(traces) == 2
    assert jax.tree.structure(with_bias) != jax.tree.structure(without)


def test_lists_become_tuples_and_dicts_frozendicts() -> None:
    m = Holder({"b": [1, 2], "a": {"x": jnp.ones(1)}})
    assert isinstance(m.value, nox.FrozenDict)
    assert list(m.value) == ["a", "b"] and m.value["b"] == (1, 2)
    assert isinstance(m.value["a"], nox.FrozenDict)
    assert hash(Holder({"k": [1, 2]})) == hash(Holder({"k": (1, 2)}))


@pytest.mark.parametrize(
    "bad", [lambda x: x, object(), print, {1.5: 1}, {"f": lambda: 0}, [1, object()]]
)
def test_values_outside_the_rule_raise_field_error_naming_the_field(bad: object) -> None:
    with pytest.raises(nox.FieldError, match=r"Holder\.value.*cannot be a field value|dict keys must be str or int"):
        Holder(bad)


def test_lambda_error_suggests_register_and_module() -> None:
    with pytest.raises(TypeError, match=r"(?s)Holder\.value = <function.*register_function.*module.*static=True"):
        Holder(lambda x: x)


def test_registered_function_is_static() -> None:
    def swish2(x: jax.Array) -> jax.Array:
        return x * jax.nn.sigmoid(2 * x)

    with pytest.raises(nox.FieldError):
        Holder(swish2)
    nox.register_function(swish2, "tests.swish2")
    assert jax.tree.leaves(Holder(swish2)) == []
    assert jax.tree.leaves(Holder(jnp.tanh)) == [] and jax.tree.leaves(Holder(jax.nn.gelu)) == []


def test_static_override() -> None:
    class Overrides(nox.Module):
        lr: float = nox.field(default=0.1, static=False)
        mesh_axes: Any = nox.field(default=None, static=True)

    m = Overrides(lr=0.5, mesh_axes=frozenset({"data"}))
    assert jax.tree.leaves(m) == [0.5]
    grads = jax.grad(lambda m: m.lr**2)(m)
    assert grads.lr == pytest.approx(1.0)
    with pytest.raises(nox.FieldError, match=r"Overrides\.mesh_axes is declared static=True but holds an array"):
        Overrides(mesh_axes=jnp.ones(2))
    with pytest.raises(nox.FieldError, match=r"Overrides\.mesh_axes is declared static=True, so its value must be hashable, but set is not"):
        Overrides(mesh_axes={1, 2})


def test_scalar_types_and_dtypes_are_static() -> None:
    for value in (jnp.float32, np.int8, jnp.bfloat16, np.dtype("float16"), float, complex(1, 2), None):
        assert jax.tree.leaves(Holder(value)) == []
    for value in (np.float32(1.0), np.zeros(2), jax.ShapeDtypeStruct((2,), jnp.float32)):
        assert len(jax.tree.leaves(Holder(value))) == 1


def test_namedtuple_of_arrays_is_a_child() -> None:
    import optax

    state = optax.adam(1e-3).init({"w": jnp.ones(2)})
    m = Holder(state)
    assert len(jax.tree.leaves(m)) == len(jax.tree.leaves(state))


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=3) | st.integers(), children, max_size=3),
    max_leaves=8,
)


@given(json_like)
def test_json_like_values_are_static_and_round_trip_through_tree_map(value: Any) -> None:
    m = Holder(value)
    assert jax.tree.leaves(m) == []
    assert jax.tree.map(lambda x: x, m) == m
    assert hash(m) == hash(Holder(value))


@given(st.floats(allow_nan=True), st.integers())
def test_canonical_statics_distinguish_int_and_float(x: float, n: int) -> None:
    same = Holder(x) == Holder(x)
    assert same
    if not (math.isnan(x)) and float(n) == x:
        assert Holder(n) != Holder(x)
