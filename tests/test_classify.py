"""The one authority (noxjax/_static.py): arrays, modules, registered pytrees, traced leaves."""

from __future__ import annotations

import functools
import pickle
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st

import noxjax as nox


class ShapeDtype(nox.Module):
    """Fields named like an array's attributes: still a module, never an array."""

    shape: jax.Array
    dtype: jax.Array


def shape_dtype() -> ShapeDtype:
    return ShapeDtype(jnp.ones(2), jnp.arange(3.0))


@pytest.mark.parametrize(
    ("value", "array", "inexact"),
    [
        (jnp.ones(2), True, True),
        (jnp.arange(2), True, False),
        (np.ones(2, np.float16), True, True),
        (np.float32(1), True, True),
        (np.int8(1), True, False),
        (jax.ShapeDtypeStruct((2,), jnp.bfloat16), True, True),
        (jax.random.key(0), True, False),
        (jnp.ones(2, jnp.complex64), True, True),
        (1.0, False, False),
        (True, False, False),
        ([jnp.ones(2)], False, False),
        (np.float32, False, False),
        (shape_dtype(), False, False),
        (ShapeDtype, False, False),
    ],
)
def test_is_array_decides_by_type(value: Any, array: bool, inexact: bool) -> None:
    assert nox.is_array(value) is array
    assert nox.is_inexact_array(value) is inexact


def test_tracers_are_arrays() -> None:
    seen: list[bool] = []

    def f(x: jax.Array) -> jax.Array:
        seen.append(nox.is_array(x) and nox.is_inexact_array(x))
        return x

    jax.jit(f)(jnp.ones(2))
    jax.grad(lambda x: f(x).sum())(jnp.ones(2))
    jax.vmap(f)(jnp.ones((2, 2)))
    assert seen == [True, True, True]


def test_a_module_with_shape_and_dtype_fields_is_a_module_everywhere(tmp_path: Any) -> None:
    m = shape_dtype()
    assert nox.is_module(m) and not nox.is_array(m)
    assert nox.paths(m) == [".shape", ".dtype"]
    assert nox.paths(nox.filter(m, "dtype")) == [".dtype"]
    assert nox.jit(lambda m: m.shape + 1)(m).tolist() == [2.0, 2.0]
    nox.save(tmp_path / "m.nox", m)
    assert nox.load(tmp_path / "m.nox") == m
    holder = nox.Sequential([m])
    assert nox.paths(holder) == [".layers[0].shape", ".layers[0].dtype"]


# --------------------------------------------------------------------- registered pytrees


class Holder(nox.Module):
    inner: Any
    scale: jax.Array = nox.field(default_factory=lambda: jnp.ones(2))


def test_an_equinox_module_is_split_leaf_by_leaf() -> None:
    eqx = pytest.importorskip("equinox")
    mlp = eqx.nn.MLP(2, 2, 4, 1, key=jax.random.key(0))
    h = Holder(mlp)
    assert nox.paths(h) == [
        ".inner.layers[0].weight", ".inner.layers[0].bias", ".inner.layers[1].weight", ".inner.layers[1].bias", ".scale",
    ]
    assert h.inner.activation is mlp.activation  # static, kept as it is
    assert h == jax.tree.map(lambda x: x, h)
    assert h != Holder(eqx.nn.MLP(2, 2, 4, 1, activation=jax.nn.tanh, key=jax.random.key(0)))
    out = nox.jit(lambda h, x: h.inner(x) * h.scale)(h, jnp.ones(2))
    assert jnp.allclose(out, mlp(jnp.ones(2)))
    grads = nox.grad(lambda h: h.inner(jnp.ones(2)).sum())(h)
    assert grads.inner.layers[0].weight.shape == (4, 2) and grads.inner.activation is mlp.activation
    assert nox.at(h, "inner.layers[0].bias").set(jnp.zeros(4)).inner.layers[0].bias.tolist() == [0.0] * 4
    assert nox.paths(nox.filter(h, "inner.**")) == nox.paths(h)[:4]


def test_an_unregistered_callable_inside_a_registered_pytree_is_static_by_identity() -> None:
    eqx = pytest.importorskip("equinox")

    def act(x: jax.Array) -> jax.Array:
        return x

    h = Holder(eqx.nn.MLP(2, 2, 4, 1, activation=act, key=jax.random.key(0)))
    assert h.inner.activation is act
    assert len(jax.tree.leaves(h)) == 5
    with pytest.raises(nox.SaveError, match=r"cannot save \.inner"):
        nox.dumps(h)


def test_a_flax_struct_dataclass_is_split_leaf_by_leaf() -> None:
    struct = pytest.importorskip("flax.struct")

    @struct.dataclass
    class State:
        w: jax.Array
        step: int = struct.field(pytree_node=False, default=0)
        rate: float = 0.5  # a pytree node holding a float: static by the rule

    h = Holder(State(jnp.ones(3)))
    assert nox.paths(h) == [".inner.w", ".scale"]
    assert h.inner.rate == 0.5
    assert h != Holder(State(jnp.ones(3), rate=0.25))  # the static is in the treedef
    grads = nox.grad(lambda h: (h.inner.w * h.inner.rate).sum())(h)
    assert grads.inner.w.tolist() == [0.5] * 3


def test_optax_states_and_partials_as_fields() -> None:
    state = optax.adam(1e-3).init({"a": jnp.ones(2)})
    h = Holder(state)
    assert nox.paths(h) == [".inner[0].count", ".inner[0].mu['a']", ".inner[0].nu['a']", ".scale"]
    assert nox.Jit(lambda h: h.inner[0].count + 1)(h) == 1
    leaky = Holder(functools.partial(jax.nn.leaky_relu, negative_slope=0.1))
    assert len(jax.tree.leaves(leaky)) == 1
    assert leaky != Holder(functools.partial(jax.nn.leaky_relu, negative_slope=0.2))
    assert float(nox.jit(lambda h, x: h.inner(x))(leaky, -jnp.ones(1))[0]) == pytest.approx(-0.1)
    with pytest.raises(nox.FieldError, match=r"Holder\.inner is a functools\.partial holding arrays"):
        Holder(functools.partial(jnp.add, jnp.ones(2)))
    with pytest.raises(nox.FieldError, match=r"Holder\.inner\.func = <function"):
        Holder(functools.partial(lambda x: x, 1))


def test_numpy_arrays_inside_registered_pytrees_are_copied_read_only() -> None:
    source = np.ones(2)
    h = Holder(optax.EmptyState())
    assert h.inner == optax.EmptyState()
    h = Holder(optax.ScaleByAdamState(np.zeros((), np.int32), source, source))
    source[0] = 5
    assert h.inner.mu[0] == 1.0 and not h.inner.mu.flags.writeable


# --------------------------------------------------------------------- the static rule


class Box(nox.Module):
    value: Any = nox.field(static=True)


STATIC_PARITY = [
    1, 1.5, "s", None, (1, 2), [1, 2], {"a": 1}, {"a": [1]}, jax.nn.relu, object(), frozenset({1}),
    {1, 2}, [{1}], jnp.ones(2), np.ones(2), {"a": jnp.ones(1)}, nox.Sequential([]),
    nox.Sequential([jnp.ones(1)]),
]


@pytest.mark.parametrize("value", STATIC_PARITY, ids=lambda v: type(v).__name__)
def test_static_true_accepts_and_rejects_the_same_values_alone_and_in_a_tuple(value: Any) -> None:
    def outcome(v: Any) -> str:
        try:
            Box(v)
        except nox.FieldError as e:
            return "array" if "holds an array" in str(e) else "unhashable" if "hashable" in str(e) else str(e)
        return "ok"

    assert outcome(value) == outcome((1, value))


@pytest.mark.parametrize("bad", [jnp.ones(2), (1, np.ones(1)), {"k": (jnp.ones(1),)}])
def test_static_true_with_an_array_names_the_field(bad: Any) -> None:
    with pytest.raises(nox.FieldError, match=r"Box\.value is declared static=True but holds an array"):
        Box(bad)


@pytest.mark.parametrize(
    ("how", "where"),
    [
        ("method", r"SelfRef\.f holds a BoundMethod"),
        ("self", r"SelfRef\.f holds an instance"),
        ("tuple", r"SelfRef\.f\[1\] holds a BoundMethod"),
        ("nested", r"Sequential\.layers\[0\] holds a BoundMethod"),
    ],
)
def test_a_module_that_would_contain_itself_fails_at_construction(how: str, where: str) -> None:
    class SelfRef(nox.Module):  # defined here, so that making the class is part of the test
        w: jax.Array
        f: Any = None

        def __init__(self, how: str) -> None:
            self.w = jnp.ones(2)  # pyright: ignore[reportAttributeAccessIssue]
            if how == "method":
                self.f = self.g  # pyright: ignore[reportAttributeAccessIssue]
            elif how == "self":
                self.f = self  # pyright: ignore[reportAttributeAccessIssue]
            elif how == "tuple":
                self.f = (1, self.g)  # pyright: ignore[reportAttributeAccessIssue]
            else:
                self.f = nox.Sequential([self.g])  # pyright: ignore[reportAttributeAccessIssue]

        def g(self, x: jax.Array) -> jax.Array:
            return x

    with pytest.raises(nox.FieldError, match=rf"(?s){where} of a module that is still being built.*self\.f = self\.g"):
        SelfRef(how)
    assert not nox.is_array(SelfRef.__new__(SelfRef)) and not nox.is_array(SelfRef)


class WithMethod(nox.Module):
    w: jax.Array

    def double(self, x: jax.Array) -> jax.Array:
        return 2 * self.w * x


def test_a_bound_method_of_a_built_module_is_a_fine_field() -> None:
    inner = WithMethod(jnp.ones(2))
    holder = Holder(inner.double)
    assert nox.paths(holder) == [".inner.__self__.w", ".scale"]
    assert holder.inner(jnp.ones(2)).tolist() == [2.0, 2.0]
    back = pickle.loads(pickle.dumps(holder))  # rebuilt through construction, not bind
    assert jax.tree.structure(back) == jax.tree.structure(holder)
    assert back.inner.__qualname__ == "WithMethod.double" and back.inner.__module__ == __name__


# --------------------------------------------------------------------- traced argument leaves


class Scaled(nox.Module):
    w: jax.Array
    s: float = nox.field(default=1.0, static=False)


@given(st.lists(st.floats(-10, 10, allow_nan=False), min_size=2, max_size=4, unique=True))
def test_a_static_false_float_is_traced_on_every_jit_path(scales: list[float]) -> None:
    traces: list[int] = []

    def f(m: Scaled, x: jax.Array, k: int = 1) -> jax.Array:
        traces.append(1)
        return m.w * m.s * x * k

    fast, slow = nox.jit(f), nox.jit(f)
    for s in scales:
        m = Scaled(jnp.ones(2), s)
        assert float(fast(m, jnp.ones(2))[0]) == pytest.approx(s)
        assert float(slow(m, jnp.ones(2), 3)[0]) == pytest.approx(3 * s)
    assert len(traces) == 2  # one trace per call path, whatever the values


def test_remat_traces_a_static_false_float_and_vmap_passes_it_to_jax() -> None:
    seen: list[bool] = []

    def f(m: Scaled, x: jax.Array) -> jax.Array:
        seen.append(nox.is_array(m.s))
        return m.w * m.s * x

    m = Scaled(jnp.ones(2), 2.0)
    assert nox.vmap(f, in_axes=(None, 0))(m, jnp.ones((3, 2))).shape == (3, 2)
    assert nox.remat(f)(m, jnp.ones(2)).tolist() == [2.0, 2.0]
    assert seen == [False, True]  # jax.vmap leaves in_axes=None arguments as they are


def test_a_module_class_made_in_a_test_is_a_module_and_never_an_array() -> None:
    class Local(nox.Module):
        shape: tuple[int, ...]
        dtype: jax.Array

    m = Local((2,), jnp.ones(1))
    assert nox.is_module(m) and not nox.is_array(m) and not nox.is_inexact_array(m)
    assert nox.paths(Holder(m)) == [".inner.dtype", ".scale"]  # a module field, not a registered node
    assert Holder(m).inner is m


def test_nested_mixed_containers_come_back_exactly() -> None:
    value = ((jnp.ones(1), "a"), 3, {"k": (jnp.zeros(1), None)})
    h = Holder(value)
    rebuilt = jax.tree.map(lambda x: x + 1, h)
    assert rebuilt.inner[0][1] == "a" and rebuilt.inner[1] == 3 and rebuilt.inner[2]["k"][1] is None
    assert rebuilt.inner[0][0].tolist() == [2.0] and rebuilt.inner[2]["k"][0].tolist() == [1.0]
    assert type(rebuilt.inner[0]) is tuple and type(rebuilt.inner[2]) is nox.FrozenDict


def test_bad_values_inside_partials_and_registered_pytrees_name_their_path() -> None:
    import collections

    with pytest.raises(nox.FieldError, match=r"Holder\.inner\.args\[0\] = <object"):
        Holder(functools.partial(jax.nn.relu, object()))
    with pytest.raises(nox.FieldError, match=r"Holder\.inner\.keywords\['k'\] = <object"):
        Holder(functools.partial(jax.nn.relu, k=object()))
    pair = collections.namedtuple("pair", "a b")
    with pytest.raises(nox.FieldError, match=r"Holder\.inner\.b = <object"):
        Holder(pair(jnp.ones(1), object()))


def test_shardings_are_compared_by_identity() -> None:
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("d",))
    a = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    b = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    def f(x: jax.Array) -> jax.Array:
        return x

    same = jax.tree.structure(nox.Jit(f, out_shardings=a)) == jax.tree.structure(nox.Jit(f, out_shardings=a))
    other = jax.tree.structure(nox.Jit(f, out_shardings=a)) == jax.tree.structure(nox.Jit(f, out_shardings=b))
    assert same and not other


def test_static_false_containers_are_frozen() -> None:
    class Traced(nox.Module):
        v: Any = nox.field(static=False)

    source = np.ones(2)
    m = Traced([1.0, source, {"k": [2.0, source]}])
    source[0] = 7.0
    assert type(m.v) is tuple and type(m.v[2]) is nox.FrozenDict and type(m.v[2]["k"]) is tuple
    assert m.v[1][0] == 1.0 and not m.v[1].flags.writeable and m.v[2]["k"][1][0] == 1.0
    assert len(jax.tree.leaves(m)) == 4  # every element traced, floats included


def test_static_containers_keep_their_values_and_key_the_treedef() -> None:
    a, b = Holder({"a": 1, "b": ("x", None)}), Holder({"a": 2, "b": ("x", None)})
    assert a.inner == nox.FrozenDict({"a": 1, "b": ("x", None)}) and type(a.inner) is nox.FrozenDict
    assert jax.tree.structure(a) != jax.tree.structure(b)
    assert jax.tree.structure(a) == jax.tree.structure(Holder({"b": ("x", None), "a": 1}))
    assert jax.tree.map(lambda x: x, a).inner == a.inner


@pytest.mark.parametrize(
    ("value", "where"),
    [({"k": object()}, r"Holder\.inner\['k'\]"), ((1, object()), r"Holder\.inner\[1\]"), ([[object()]], r"Holder\.inner\[0\]\[0\]")],
)
def test_bad_values_inside_containers_name_their_path(value: Any, where: str) -> None:
    with pytest.raises(nox.FieldError, match=rf"{where} = <object"):
        Holder(value)


def test_dtype_fields_keep_their_value() -> None:
    h = Holder((np.dtype("float32"), jnp.bfloat16, float))
    assert h.inner == (np.dtype("float32"), jnp.bfloat16, float)
    assert jax.tree.structure(h) != jax.tree.structure(Holder((np.dtype("float16"), jnp.bfloat16, float)))


def test_static_true_values_compare_with_their_exact_type() -> None:
    from decimal import Decimal
    from fractions import Fraction

    assert Fraction(1) == Decimal(1) and hash(Fraction(1)) == hash(Decimal(1))
    assert jax.tree.structure(Box(Fraction(1))) != jax.tree.structure(Box(Decimal(1)))
    assert jax.tree.structure(Box(Fraction(1))) == jax.tree.structure(Box(Fraction(2, 2)))


def test_unregistered_callables_in_registered_pytrees_differ_by_identity() -> None:
    eqx = pytest.importorskip("equinox")

    def double(x: jax.Array) -> jax.Array:
        return 2 * x

    def triple(x: jax.Array) -> jax.Array:
        return 3 * x

    key = jax.random.key(0)
    a = Holder(eqx.nn.MLP(2, 2, 4, 1, activation=double, final_activation=double, key=key))
    b = Holder(eqx.nn.MLP(2, 2, 4, 1, activation=triple, final_activation=triple, key=key))
    assert jax.tree.structure(a) != jax.tree.structure(b) and a != b
    f = nox.jit(lambda h, x: h.inner(x))
    assert not jnp.allclose(f(a, jnp.ones(2)), f(b, jnp.ones(2)))


def test_a_transform_option_that_cannot_be_static_names_the_field() -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, x: Any) -> Any:
            return x

    with pytest.raises(nox.FieldError, match=r"Jit\.fn is kept as a static, so its value must be hashable, but Unhashable is not.*pass a function, a module"):
        nox.Jit(Unhashable())


def test_remat_and_vmap_keep_static_arguments_static() -> None:
    def repeat(x: jax.Array, n: int, mode: str) -> jax.Array:
        for _ in range(n):  # needs a Python int
            x = x * 2 if mode == "double" else x + 1
        return x

    remat = nox.remat(repeat)
    assert remat(jnp.ones(2), 3, "double").tolist() == [8.0, 8.0]
    assert remat(jnp.ones(2), 2, "add").tolist() == [3.0, 3.0]
    assert remat(jnp.ones(2), n=1, mode="double").tolist() == [2.0, 2.0]
    vmap = nox.vmap(repeat, in_axes=(0, None, None))
    assert vmap(jnp.ones((3, 2)), 2, "double").tolist() == [[4.0, 4.0]] * 3
    assert vmap(jnp.ones((3, 2)), 1, "add").tolist() == [[2.0, 2.0]] * 3
