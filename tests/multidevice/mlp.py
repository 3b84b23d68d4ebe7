"""A Megatron-style MLP and a training loop, sharded by rules or on one device."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import noxjax as nox

# Megatron: the first layer split on its output (hidden) axis, the second on its input.
RULES = {"hidden": "model", "embed": None}


class MLP(nox.Module):
    w1: jax.Array = nox.field(axes=("embed", "hidden"))
    b1: jax.Array = nox.field(axes=("hidden",))
    w2: jax.Array = nox.field(axes=("hidden", "embed"))
    b2: jax.Array = nox.field(axes=("embed",))

    @classmethod
    def init(cls, key: jax.Array, d: int, hidden: int) -> MLP:
        k1, k2 = jax.random.split(key)
        return cls(jax.random.normal(k1, (d, hidden)) / d**0.5, jnp.zeros(hidden),
                   jax.random.normal(k2, (hidden, d)) / hidden**0.5, jnp.zeros(d))

    def __call__(self, x: jax.Array) -> jax.Array:
        return jax.nn.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2


def loss(model: MLP, x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean((model(x) - y) ** 2)


OPTIMIZER = optax.adam(1e-2)


def step(model: MLP, opt: Any, x: jax.Array, y: jax.Array) -> tuple[MLP, Any]:
    grads = jax.grad(loss)(model, x, y)
    updates, opt = OPTIMIZER.update(grads, opt, model)
    return optax.apply_updates(model, updates), opt


def batch(i: int, d: int = 8, n: int = 16) -> tuple[jax.Array, jax.Array]:
    x = jax.random.normal(jax.random.key(100 + i), (n, d))
    return x, jnp.sin(x)


def train_steps(mesh: Mesh | None, rules: dict[str, Any], batch_spec: PartitionSpec, steps: int = 3) -> MLP:
    """`steps` Adam steps; with `mesh`, everything is placed and compiled with the
    shardings `rules` and `batch_spec` name."""
    model = MLP.init(jax.random.key(0), 8, 16)
    opt = OPTIMIZER.init(model)
    if mesh is None:
        train = nox.Jit(step)
    else:
        model, opt = nox.shard(model, mesh, rules=rules), nox.shard(opt, mesh, rules=rules)
        data = NamedSharding(mesh, batch_spec)
        state = (nox.shardings(model, mesh, rules=rules), nox.shardings(opt, mesh, rules=rules))
        train = nox.Jit(step, in_shardings=(*state, data, data), out_shardings=state)
    for i in range(steps):
        x, y = batch(i)
        if mesh is not None:
            x, y = jax.device_put((x, y), NamedSharding(mesh, batch_spec))
        model, opt = train(model, opt, x, y)
    return model
