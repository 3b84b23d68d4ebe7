"""Models shared by the tests. A plain module (not conftest), so that a second pytest
run in one process (mutmut's) sees the same classes as the first."""

from __future__ import annotations

import jax
import jax.numpy as jnp

import noxjax as nox


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
