"""Typed helpers: field overloads, register_function, FieldKey, FrozenDict, errors."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from typing_extensions import assert_type

import noxjax as nox

assert_type(nox.field(default=1), int)
assert_type(nox.field(default_factory=lambda: "x"), str)
assert_type(nox.field(default=0.5, static=False, tags=("no_decay",)), float)


@nox.register_function
def swish(x: jax.Array) -> jax.Array:
    return x * jax.nn.sigmoid(x)


assert_type(swish(jnp.ones(1)), jax.Array)  # the decorator keeps the signature
swish_fn: Callable[[jax.Array], jax.Array] = swish
swish("x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


class Model(nox.Module):
    w: jax.Array
    act: str = "relu"

    def encode(self, x: jax.Array) -> jax.Array:
        return self.w * x


m = Model(jnp.ones(2))
assert_type(m.encode(jnp.ones(2)), jax.Array)
assert_type(nox.is_module(m), bool)
assert_type(nox.replace(m, act="gelu"), Model)
key = nox.FieldKey("w", Model)
assert_type(key.owner, type)
assert_type(key.tags, tuple[str, ...])
assert_type(nox.FrozenDict({"a": 1.0}) | {"b": 2.0}, nox.FrozenDict[str, float])

try:
    Model(jnp.ones(2), act=lambda x: x)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
except nox.FieldError as e:
    assert_type(e, nox.FieldError)
    assert isinstance(e, TypeError) and isinstance(e, nox.NoxError)

nox.field(default=1, static="yes")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
nox.replace(m, act="gelu").missing  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
m.encode(jnp.ones(2), 2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
