"""Structural equality and hashing."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import noxjax as nox
from conftest import Linear


class Config(nox.Module):
    depth: int
    name: str = "x"


def test_structural_equality(linear: Linear) -> None:
    same = Linear(w=jnp.array(linear.w), b=jnp.array(linear.b))
    assert same == linear and same is not linear
    assert nox.replace(linear, n=4) != linear
    assert nox.replace(linear, w=linear.w + 1) != linear
    assert nox.replace(linear, w=linear.w.astype(jnp.float16)) != linear
    assert nox.replace(linear, w=linear.w[:1]) != linear
    assert linear != "not a module"
    nan = Linear(w=jnp.full((1, 1), jnp.nan), b=jnp.zeros(1))
    assert nan == Linear(w=jnp.full((1, 1), jnp.nan), b=jnp.zeros(1))
    assert Linear(w=np.ones((1, 1), np.float32), b=np.zeros(1, np.float32)) == Linear(w=jnp.ones((1, 1)), b=jnp.zeros(1))


def test_prng_key_leaves_compare(linear: Linear) -> None:
    class Keyed(nox.Module):
        key: jax.Array

    assert Keyed(jax.random.key(1)) == Keyed(jax.random.key(1))
    assert Keyed(jax.random.key(1)) != Keyed(jax.random.key(2))


def test_array_free_modules_hash_and_work_as_static_args() -> None:
    assert hash(Config(2)) == hash(Config(2)) and Config(2) == Config(2)
    assert len({Config(2), Config(2), Config(3), Config(True)}) == 3
    f = jax.jit(lambda c, x: x * c.depth, static_argnums=0)
    assert float(f(Config(3), 2.0)) == 6.0


def test_hashing_a_module_with_arrays_explains(linear: Linear) -> None:
    with pytest.raises(nox.UnhashableModuleError, match=r"(?s)Linear holds arrays \(at \.w, \.b\), so it has no hash.*jax.jit\(f\)\(m, x\)"):
        hash(linear)
    with pytest.raises(TypeError):
        {linear}


def test_comparing_under_tracing_raises(linear: Linear) -> None:
    @jax.jit
    def compare(m: Linear) -> bool:
        return m == linear

    with pytest.raises(nox.TracerComparisonError, match=r"(?s)cannot compare Linear instances with `==` while \.w is traced.*jnp.array_equal"):
        compare(linear)


def test_tree_equal_compares_structure_statics_dtypes_and_values_with_tolerances() -> None:
    import noxjax as nox

    a = {"w": jnp.ones(3), "n": 1}
    assert nox.tree_equal(a, {"w": jnp.ones(3), "n": 1}) is True
    assert nox.tree_equal(a, {"w": jnp.ones(3), "n": 1.0}) is False  # type-strict statics
    assert nox.tree_equal(a, {"w": jnp.ones(3, jnp.float16), "n": 1}) is False
    assert nox.tree_equal(a, {"w": jnp.ones(2), "n": 1}) is False
    assert nox.tree_equal(a, {"v": jnp.ones(3), "n": 1}) is False
    near = {"w": jnp.ones(3) + 1e-4, "n": 1}
    assert nox.tree_equal(a, near) is False
    assert nox.tree_equal(a, near, atol=1e-3) is True
    assert nox.tree_equal(a, near, rtol=1e-3) is True
    assert nox.tree_equal({"w": jnp.array([jnp.nan])}, {"w": jnp.array([jnp.nan])}) is True
    traced = jax.jit(lambda x, y: nox.tree_equal({"w": x}, {"w": y}, atol=0.5))(jnp.ones(2), jnp.ones(2) * 1.2)
    assert isinstance(traced, jax.Array) and bool(traced)
    assert not bool(jax.jit(lambda x: nox.tree_equal(x, x + 1))(jnp.ones(2)))
