"""A training run that checkpoints and can be killed, for the exact-resume test.

    python resume_run.py full   STEPS       OUT    # train from scratch, save the final state
    python resume_run.py crash  STEPS CKPT         # train, save a checkpoint, then SIGKILL itself
    python resume_run.py resume STEPS CKPT OUT    # load the checkpoint, train to STEPS, save
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import jax
import jax.numpy as jnp
import optax

import noxjax as nox


class Dense(nox.Module, name="tests.resume.Dense"):
    w: jax.Array
    b: jax.Array

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.w @ x + self.b


class MLP(nox.Module, name="tests.resume.MLP"):
    layers: tuple[Dense, ...]
    activation: str = "tanh"

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = getattr(jnp, self.activation)(layer(x))
        return self.layers[-1](x)


OPTIMIZER = optax.adamw(1e-2, weight_decay=0.1, mask=nox.labeler({True: "**.w"}, default=False))
XS = jax.random.normal(jax.random.key(1), (64, 2))
YS = jnp.sin(XS.sum(axis=1, keepdims=True))


def start() -> dict[str, Any]:
    k1, k2, key = jax.random.split(jax.random.key(0), 3)
    model = MLP((Dense(jax.random.normal(k1, (16, 2)) / 2, jnp.zeros(16)), Dense(jax.random.normal(k2, (1, 16)) / 4, jnp.zeros(1))))
    return {"model": model, "opt_state": OPTIMIZER.init(model), "step": 0, "key": key}


@jax.jit
def step(model: MLP, opt_state: Any, key: jax.Array) -> tuple[MLP, Any, jax.Array]:
    key, noise_key = jax.random.split(key)
    targets = YS + 0.01 * jax.random.normal(noise_key, YS.shape)  # the key matters for every step

    def loss(m: MLP) -> jax.Array:
        return jnp.mean((jax.vmap(m)(XS) - targets) ** 2)

    updates, opt_state = OPTIMIZER.update(jax.grad(loss)(model), opt_state, model)
    return optax.apply_updates(model, updates), opt_state, key


def train(state: dict[str, Any], until: int) -> dict[str, Any]:
    model, opt_state, key = state["model"], state["opt_state"], state["key"]
    for _ in range(state["step"], until):
        model, opt_state, key = step(model, opt_state, key)
    return {"model": model, "opt_state": opt_state, "step": until, "key": key}


def main(mode: str, steps: str, *paths: str) -> None:
    if mode == "full":
        nox.save(paths[0], train(start(), int(steps)))
    elif mode == "crash":
        nox.save(paths[0], train(start(), int(steps)))
        os.kill(os.getpid(), signal.SIGKILL)
    else:
        nox.save(paths[1], train(nox.load(paths[0]), int(steps)))


if __name__ == "__main__":
    main(*sys.argv[1:])
