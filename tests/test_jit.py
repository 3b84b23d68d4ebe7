"""nox.Jit: static inference, caching, no blocking, donation, shardings."""

from __future__ import annotations

import math
import pickle
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import noxjax as nox


class Layer(nox.Module):
    w: jax.Array
    b: jax.Array
    depth: int = 1

    def __call__(self, x: jax.Array, *, training: bool = False, scale: Any = 1.0) -> jax.Array:
        TRACES.append((training, scale))
        y = self.w @ x + self.b
        for _ in range(self.depth):
            y = jnp.tanh(y)
        return y * scale if training else y


TRACES: list[Any] = []


@pytest.fixture(autouse=True)
def _clear_traces() -> None:
    TRACES.clear()


def layer(seed: int = 0) -> Layer:
    return Layer(jax.random.normal(jax.random.key(seed), (4, 4)), jnp.zeros(4))


def test_seed_jit_of_vmap_equals_the_loop() -> None:
    model = nox.Sequential([layer(0), jax.nn.relu, layer(1)])
    xs = jax.random.normal(jax.random.key(2), (6, 4))
    out = nox.Jit(nox.VMap(model))(xs)
    assert jnp.allclose(out, jnp.stack([model(x) for x in xs]), atol=1e-6)


def test_new_array_values_do_not_retrace_statics_do() -> None:
    jitted = nox.Jit(layer())
    x = jnp.ones(4)
    jitted(x)
    jitted(2 * x)
    nox.Jit(layer(5))(x)  # another instance, equal statics: cached
    assert len(TRACES) == 1
    jitted(x, training=True)
    jitted(x, training=True)
    assert len(TRACES) == 2
    nox.Jit(nox.replace(layer(), depth=2))(x)
    assert len(TRACES) == 3


def test_static_arguments_compare_type_strictly_and_nan_is_stable() -> None:
    jitted = nox.Jit(layer())
    x = jnp.ones(4)
    for scale in (3, 3.0, True, 3, 3.0, True):
        jitted(x, training=True, scale=scale)
    assert [s for _, s in TRACES] == [3, 3.0, True]
    jitted(x, training=True, scale=math.nan)
    jitted(x, training=True, scale=float("nan"))
    assert len(TRACES) == 4
    assert jitted(x, training=False, scale="no").dtype  # a str is static too
    assert TRACES[-1] == (False, "no")
    TRACES.clear()
    for scale in (1 + 0j, 1, 2 + 0j, 1 + 1j, complex(math.nan, 1), complex(math.nan, 1), 1 + 0j):
        jitted(x, training=True, scale=scale)
    assert [s for _, s in TRACES][:4] == [1 + 0j, 1, 2 + 0j, 1 + 1j] and len(TRACES) == 5


class WithTracedScalar(nox.Module):
    w: jax.Array
    k: float = nox.field(default=1.0, static=False)


def test_all_traced_arguments_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import noxjax._jit as jit_module

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("took the slow path")

    monkeypatch.setattr(jit_module, "_call_slow", refuse)
    f = nox.jit(lambda m, x, y=None: m(x) + (0 if y is None else y))
    m = layer()
    assert f(m, jnp.ones(4)).shape == (4,)
    assert f(m, np.ones(4, np.float32), y=jnp.ones(4)).shape == (4,)
    assert f(m, (jnp.ones(4),)[0], y=np.float32(1)).shape == (4,)
    scaled = nox.jit(lambda s, x: s.w * s.k * x)
    assert scaled(WithTracedScalar(jnp.ones(4), 2.0), jnp.ones(4)).tolist() == [2.0] * 4  # a float inside a module
    with pytest.raises(AssertionError, match="slow path"):
        f(m, jnp.ones(4), y=1.0)
    with pytest.raises(AssertionError, match="slow path"):
        nox.Jit(lambda x: x, out_shardings=jax.sharding.SingleDeviceSharding(jax.devices()[0]))(jnp.ones(1))


class Counting(nox.Module, name="tests.Counting"):
    w: jax.Array

    def double(self, x: jax.Array) -> jax.Array:
        TRACES.append("double")
        return 2 * self.w * x


def test_rebuilt_jit_does_not_retrace(tmp_path: Any) -> None:
    jitted = nox.Jit(Counting(jnp.ones(3)).double)
    x = jnp.ones(3)
    first = jitted(x)
    jax.tree.map(lambda a: a + 1, jitted)(x)
    nox.replace(jitted, fn=Counting(jnp.zeros(3)).double)(x)
    nox.save(tmp_path / "j.nox", jitted)
    loaded = nox.load(tmp_path / "j.nox")
    assert isinstance(loaded, nox.Jit) and jnp.array_equal(loaded(x), first)
    assert TRACES == ["double"]


def counted(x: jax.Array, scale: Any = 2) -> jax.Array:
    TRACES.append(scale)
    return x * scale


def test_jit_of_a_function_is_shared_by_every_jit_of_it_and_leaves_no_trace_in_the_module() -> None:
    jitted = nox.Jit(counted)
    x = jnp.ones(3)
    assert jnp.array_equal(jitted(x), 2 * x)
    jax.tree.map(lambda a: a, jitted)(x)
    pickle.loads(pickle.dumps(jitted))(2 * x)
    nox.Jit(counted)(x)
    assert TRACES == [2]
    assert jnp.array_equal(jitted(x, 3), 3 * x)  # a static argument: the slow path
    assert jnp.array_equal(jitted(x, scale=jnp.float32(4)), 4 * x)  # all traced again
    assert TRACES == [2, 3, TRACES[2]] and isinstance(TRACES[2], jax.core.Tracer)
    assert jitted == nox.Jit(counted) and jax.tree.structure(jitted) == jax.tree.structure(nox.Jit(counted))
    donating = nox.Jit(counted, donate="[0]")
    assert jnp.array_equal(donating(jnp.ones(3)), 2 * x)  # options always take the slow path


def test_unhashable_static_argument_names_it() -> None:
    with pytest.raises(TypeError, match=r"the argument leaf args\[1\] = \{1, 2\} is not an array, so it is static and must be hashable"):
        nox.Jit(lambda x, s: x)(jnp.ones(1), {1, 2})
    with pytest.raises(TypeError, match=r"the argument leaf kwargs\['opts'\]\['k'\] = \{3\} is not an array"):
        nox.Jit(lambda x, opts: x)(jnp.ones(1), opts={"k": {3}})


def test_calls_do_not_block() -> None:
    big = jnp.ones((1500, 1500))

    @nox.jit
    def heavy(x: jax.Array, n: int) -> jax.Array:
        for _ in range(n):
            x = jnp.tanh(x @ x) / 1500
        return x

    raw = jax.jit(heavy.fn, static_argnums=1)

    def dispatch_and_total(call: Any) -> tuple[float, float]:
        jax.block_until_ready(call())
        start = time.perf_counter()
        out = call()
        dispatched = time.perf_counter() - start
        jax.block_until_ready(out)
        return dispatched, time.perf_counter() - start

    raw_dispatch, raw_total = dispatch_and_total(lambda: raw(big, 6))
    if raw_dispatch > raw_total / 3:
        pytest.skip("this JAX dispatches synchronously on CPU")
    matmuls = nox.Jit(lambda x: jnp.tanh(x @ x) @ x @ x)
    for call in (lambda: heavy(big, 6), lambda: matmuls(big)):
        dispatched, total = dispatch_and_total(call)
        assert dispatched < total / 3, (dispatched, total)


def test_decorator_forms_and_options() -> None:
    @nox.jit(donate="[0]")
    def step(state: jax.Array, delta: jax.Array) -> jax.Array:
        return state + delta

    state = jnp.zeros(3)
    new = step(state, jnp.ones(3))
    assert new.tolist() == [1.0, 1.0, 1.0]
    assert isinstance(step, nox.Jit) and step.donate == "[0]"
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    placed = nox.Jit(lambda x: x * 2, in_shardings=sharding, out_shardings=sharding)(jnp.ones(2))
    assert placed.sharding == sharding


def _cpu_donates() -> bool:
    x = jnp.ones(2)
    jax.jit(lambda a: a + 1, donate_argnums=0)(x)
    return x.is_deleted()


def _add_to_all(state: Any, delta: jax.Array, scale: Any = 1) -> Any:
    return jax.tree.map(lambda s: s + delta * scale, state)


def _deleted(tree: Any) -> Any:
    return jax.tree.map(lambda x: x.is_deleted(), tree)


def test_donate_frees_exactly_the_leaves_its_where_selects() -> None:
    if not _cpu_donates():
        pytest.skip("this JAX does not donate buffers on CPU")
    pair = lambda: {"a": jnp.ones(2), "b": jnp.ones(2)}  # noqa: E731
    only_a = nox.Jit(_add_to_all, donate="[0]['a']")
    state, delta = pair(), jnp.ones(2)
    assert only_a(state, delta)["a"].tolist() == [2.0, 2.0]
    assert _deleted(state) == {"a": True, "b": False} and not delta.is_deleted()
    wider = {"a": jnp.ones(2), "b": jnp.ones(2), "c": jnp.ones(2)}  # another treedef, same where
    only_a(wider, jnp.ones(2))
    assert _deleted(wider) == {"a": True, "b": False, "c": False}
    state = pair()
    nox.Jit(_add_to_all, donate="[0]['b']")(state, jnp.ones(2))  # another where, same treedef
    assert _deleted(state) == {"a": False, "b": True}
    bare = jnp.ones(2)  # a positional argument that is itself the leaf
    nox.Jit(_add_to_all, donate="[0]")(bare, jnp.ones(2))
    assert bare.is_deleted()
    state, delta, scale = pair(), jnp.ones(2), jnp.ones(2)
    with_delta = lambda state, delta, scale: (_add_to_all(state, delta, scale), delta * scale)  # noqa: E731
    nox.Jit(with_delta, donate="**")(state, delta, scale=scale)  # keyword arguments are never donated
    assert _deleted(state) == {"a": True, "b": True} and delta.is_deleted() and not scale.is_deleted()
    state = pair()
    assert nox.Jit(with_delta, donate="**")(state, jnp.ones(2), 3)[0]["a"].tolist() == [4.0, 4.0]  # statics are not
    by_shape = nox.Jit(_add_to_all, donate=lambda path, leaf: leaf.shape == (3,))
    state = {"a": jnp.ones(2), "b": jnp.ones(3)}
    by_shape(state, jnp.ones(()))
    assert _deleted(state) == {"a": False, "b": True}
    model = layer()
    held = nox.Jit(model, donate="**")
    held(jnp.ones(4))
    assert not any(_deleted(jax.tree.leaves(held)))  # the function's own arrays are never donated


def test_set_cache_size() -> None:
    nox.set_cache_size(2)
    try:
        f = nox.Jit(lambda x, k: x * k)
        for k in range(5):
            f(jnp.ones(1), k)
        from noxjax._jit import _CACHE

        assert len(_CACHE) <= 2
    finally:
        nox.set_cache_size(4096)
    with pytest.raises(ValueError, match="at least 1"):
        nox.set_cache_size(0)


def test_numpy_arguments_are_traced() -> None:
    jitted = nox.Jit(nox.replace(layer(), depth=5))  # a configuration no other test compiled
    jitted(np.ones(4, np.float32))
    jitted(np.zeros(4, np.float32))
    assert len(TRACES) == 1


def test_in_shardings_prefixes_give_each_leaf_its_own_sharding() -> None:
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("d",))
    by_rows = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("d"))
    # A rank-1 spec on the scalar would be an error: the second entry must reach the vector.
    out = nox.Jit(lambda xs: xs[0] + xs[1].sum(), in_shardings=[[None, by_rows]])([jnp.ones(()), jnp.ones(4)])
    assert float(out) == 5.0
    with pytest.raises(ValueError, match="rank"):
        nox.Jit(lambda xs: xs[0] + xs[1].sum(), in_shardings=[[by_rows, None]])([jnp.ones(()), jnp.ones(4)])


def test_in_shardings_take_per_leaf_trees_as_jax_jit_does() -> None:
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("d",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    model = layer()
    tree = jax.tree.map(lambda _: sharding, model)  # a model-shaped tree of shardings
    out = nox.Jit(lambda m, d: m(d["x"]), in_shardings=(tree, {"x": sharding}))(model, {"x": jnp.ones(4)})
    assert out.shape == (4,)
    listed = nox.Jit(lambda xs: xs[0] + xs[1], in_shardings=[[sharding, None]])([jnp.ones(2), jnp.ones(2)])
    assert listed.tolist() == [2.0, 2.0]
    with pytest.raises(nox.ArgumentError, match=r"in_shardings\[0\] is not a prefix of args\[0\]"):
        nox.Jit(lambda xs: xs, in_shardings=([sharding, sharding, sharding],))([jnp.ones(1)])
    assert nox.Jit(lambda x: x, in_shardings=[{"unhashable": sharding}]) is not None  # never hashed
