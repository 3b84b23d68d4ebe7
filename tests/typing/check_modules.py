"""Type checkers see the generated __init__, frozen fields, and typed helpers.

Checked by pyright and mypy in CI; each expected error is marked so that an error
that disappears fails the check (unused-ignore reporting).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import jax
import jax.numpy as jnp
from typing_extensions import assert_type

import noxjax as nox

T = TypeVar("T")


@nox.module
class Linear:
    w: jax.Array
    b: jax.Array
    activation: str = "relu"

    @classmethod
    def init(cls, key: jax.Array, d_in: int, d_out: int) -> Linear:
        return cls(w=jax.random.normal(key, (d_out, d_in)), b=jnp.zeros(d_out))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.w @ x + self.b


class Dense(nox.Module):
    w: jax.Array
    depth: int = nox.field(default=2, tags=("frozen",))
    scale: float = nox.field(default_factory=lambda: 1.0)


class Deeper(Dense):
    extra: int = 0


class Options(nox.Module, kw_only=True):
    rate: float
    name: str = "opt"


class Box(nox.Module, Generic[T]):
    item: T


# Correct use.
lin = Linear(jnp.ones((2, 3)), jnp.zeros(2))
lin2 = Linear(w=jnp.ones((2, 3)), b=jnp.zeros(2), activation="gelu")
assert_type(lin2.activation, str)
assert_type(nox.replace(lin, activation="tanh"), Linear)
assert_type(Dense(jnp.ones(1)).depth, int)
assert_type(Dense(jnp.ones(1)).scale, float)
assert_type(Deeper(jnp.ones(1), 3, 1.0, extra=2), Deeper)
assert_type(Options(rate=0.1), Options)
assert_type(Box(3).item, int)
assert_type(Box[str]("a").item, str)
assert_type(nox.Sequential([lin, jax.nn.relu])[0], Callable[..., Any])
assert_type(Dense(jnp.ones(1)).__replace__(depth=3), Dense)
seq = nox.Sequential([lin])
assert_type(seq[0:1], nox.Sequential)
frozen = nox.FrozenDict({"a": 1})
assert_type(frozen["a"], int)

# Mistakes the checkers must report.
Linear(w=jnp.ones(1), b=jnp.ones(1), bias=jnp.ones(1))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
Linear(w=jnp.ones(1))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
lin.w = jnp.ones(1)  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
Dense(jnp.ones(1)).depth = 3  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
Options(0.1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
Dense(w=jnp.ones(1), depth="deep")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
Box[int]("a")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
