"""Short, safe repr."""

from __future__ import annotations

import jax
import jax.numpy as jnp

import noxjax as nox
from conftest import Linear


def test_arrays_print_as_dtype_and_shape(linear: Linear) -> None:
    assert repr(linear) == "Linear(w=f32[2,3], b=f32[2], n=3, activation='relu')"


def test_long_trees_wrap_and_functions_print_by_name(linear: Linear) -> None:
    text = repr(nox.Sequential([linear, jax.nn.relu, linear]))
    assert text.splitlines()[0] == "Sequential(" and "    jax.nn.relu," in text


def test_repr_under_jit_never_reads_values(linear: Linear) -> None:
    seen = []

    @jax.jit
    def f(m: Linear) -> jax.Array:
        seen.append(repr(m))
        return m.w

    f(linear)
    assert seen == ["Linear(w=f32[2,3], b=f32[2], n=3, activation='relu')"]
    assert repr(Linear(jnp.ones((1, 1), jnp.bfloat16), jnp.ones(1, jnp.int8))).startswith("Linear(w=bf16[1,1], b=i8[1]")
