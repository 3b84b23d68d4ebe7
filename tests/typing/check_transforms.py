"""Transforms keep the signature of what they wrap (ParamSpec)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from typing_extensions import assert_type

import noxjax as nox


class Net(nox.Module):
    w: jax.Array

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.w * x

    def score(self, x: jax.Array, *, scale: float = 1.0) -> float:
        return float(jnp.sum(self.w * x)) * scale


def loss(model: Net, x: jax.Array, power: int = 2) -> jax.Array:
    return jnp.sum(model(x) ** power)


net = Net(jnp.ones(2))
x = jnp.ones(2)

assert_type(nox.Jit(net)(x), jax.Array)
assert_type(nox.jit(loss)(net, x), jax.Array)
assert_type(nox.jit(loss)(net, x, power=3), jax.Array)
assert_type(nox.Jit(net.score)(x, scale=2.0), float)
assert_type(nox.VMap(net)(x), jax.Array)
assert_type(nox.vmap(loss, in_axes=(None, 0))(net, x), jax.Array)
assert_type(nox.Remat(net)(x), jax.Array)
assert_type(nox.Grad(loss)(net, x), Any)
assert_type(nox.ValueAndGrad(loss, wrt="**.w")(net, x), tuple[Any, Any])
assert_type(nox.Scan(nox.stack([net, net]))(x), Any)
assert_type(nox.stack([net, net]), Net)
assert_type(nox.unstack(net), list[Net])


@nox.jit
def step(model: Net, x: jax.Array) -> Net:
    return model


assert_type(step(net, x), Net)


@nox.jit(donate="[0]")
def donated(model: Net, x: jax.Array) -> Net:
    return model


assert_type(donated(net, x), Net)
assert isinstance(donated, nox.Jit)

nox.jit(loss)(net, "x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
nox.jit(loss)(net)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
nox.Jit(net)(x, x)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
nox.Grad(loss)(net, x, power="2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
nox.Jit(net.score)(x, scale="big")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
