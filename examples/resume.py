"""Checkpoint a training run and resume it exactly.

    python examples/resume.py [--steps 400] [--every 100] [--dir checkpoints]

Trains with AdamW and dropout (so the PRNG key is part of the state), saving
`{"model", "opt_state", "step", "key"}` every few steps. It then starts over from
the middle checkpoint, as a restarted job would, and checks that the resumed run
ends bit for bit where the uninterrupted one did.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import jax
import jax.numpy as jnp
import optax

import noxjax as nox


class MLP(nox.Module, name="examples.resume.MLP"):  # a stable name for files
    w1: jax.Array
    w2: jax.Array
    dropout: float = 0.1

    def __call__(self, x: jax.Array, key: jax.Array) -> jax.Array:
        h = jax.nn.relu(x @ self.w1)
        h = jnp.where(jax.random.bernoulli(key, 1 - self.dropout, h.shape), h / (1 - self.dropout), 0)
        return h @ self.w2


OPTIMIZER = optax.adamw(1e-2, mask=nox.labeler({True: ".w1"}, default=False))
X = jax.random.normal(jax.random.key(1), (128, 4))
Y = jnp.sin(X).sum(-1, keepdims=True)


@nox.jit
def train_step(state: dict[str, Any]) -> dict[str, Any]:
    key, dropout_key = jax.random.split(state["key"])
    grads = jax.grad(lambda m: jnp.mean((m(X, dropout_key) - Y) ** 2))(state["model"])
    updates, opt_state = OPTIMIZER.update(grads, state["opt_state"], state["model"])
    return {"model": optax.apply_updates(state["model"], updates), "opt_state": opt_state, "step": state["step"] + 1, "key": key}


def run(state: dict[str, Any], until: int, every: int, directory: str) -> dict[str, Any]:
    while int(state["step"]) < until:
        state = train_step(state)
        step = int(state["step"])
        if step % every == 0:
            nox.save(os.path.join(directory, f"step{step:06d}.nox"), state, metadata={"step": step})
    return state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--dir", default="checkpoints")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    k1, k2 = jax.random.split(jax.random.key(0))
    model = MLP(jax.random.normal(k1, (4, 64)) / 2, jax.random.normal(k2, (64, 1)) / 8)
    start = {"model": model, "opt_state": OPTIMIZER.init(model), "step": jnp.array(0), "key": jax.random.key(42)}
    straight = run(start, args.steps, args.every, args.dir)
    print(f"uninterrupted: {args.steps} steps, checkpoints {sorted(os.listdir(args.dir))}")

    middle = os.path.join(args.dir, f"step{args.steps // 2 // args.every * args.every:06d}.nox")
    print(nox.inspect(middle).metadata, "<- resuming from", middle)
    resumed = run(nox.load(middle), args.steps, args.every, args.dir)  # a fresh process would do the same

    same = all(
        bool(jnp.array_equal(jax.random.key_data(a) if jnp.issubdtype(a.dtype, jax.dtypes.prng_key) else a,
                             jax.random.key_data(b) if jnp.issubdtype(b.dtype, jax.dtypes.prng_key) else b))
        for a, b in zip(jax.tree.leaves(resumed), jax.tree.leaves(straight))
    )
    print(f"resumed run identical to the uninterrupted one, bit for bit: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
