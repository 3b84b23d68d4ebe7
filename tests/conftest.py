from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from hypothesis import HealthCheck, settings

import noxjax as nox

# JAX compiles on first use, so a single example can be slow: no per-example deadline.
settings.register_profile("noxjax", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("noxjax")


class Linear(nox.Module):
    """The seed's Linear: two arrays, an int and a str static."""

    w: jax.Array
    b: jax.Array
    n: int = 3
    activation: str = "relu"

    @classmethod
    def init(cls, key: jax.Array, d_in: int, d_out: int) -> "Linear":
        return cls(w=jax.random.normal(key, (d_out, d_in)) * 0.5, b=jnp.zeros(d_out))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.w @ x + self.b


@pytest.fixture
def linear() -> Linear:
    return Linear.init(jax.random.key(0), 3, 2)
