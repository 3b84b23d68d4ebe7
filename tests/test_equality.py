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
