"""Train an ensemble of 8 MLPs at once, as one stacked module.

    python examples/ensemble.py [--steps 2000]

`nox.stack` gives every array a leading member axis; `nox.VMap(..., fn_axis=0)`
maps over it, so one jitted step trains all members in parallel. The members
start from different seeds, so their spread shows where they disagree: outside
the training data.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax

import noxjax as nox


class MLP(nox.Module):
    w1: jax.Array
    b1: jax.Array
    w2: jax.Array
    b2: jax.Array

    @classmethod
    def init(cls, key: jax.Array, width: int = 64) -> MLP:
        k1, k2 = jax.random.split(key)
        return cls(jax.random.normal(k1, (1, width)), jnp.zeros(width), jax.random.normal(k2, (width, 1)) / width**0.5, jnp.zeros(1))

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.tanh(x @ self.w1 + self.b1) @ self.w2 + self.b2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--members", type=int, default=8)
    args = parser.parse_args()

    x = jnp.linspace(-2, 2, 128)[:, None]
    y = jnp.sin(2 * x)
    ensemble = nox.stack([MLP.init(k) for k in jax.random.split(jax.random.key(0), args.members)])
    print(f"stacked: {ensemble}")
    optimizer = optax.adam(1e-2)
    opt_state = optimizer.init(ensemble)

    def member_loss(member: MLP) -> jax.Array:
        return jnp.mean((member(x) - y) ** 2)

    losses_of = nox.VMap(member_loss, in_axes=0)  # one loss per member

    @nox.jit
    def step(ensemble: MLP, opt_state: optax.OptState) -> tuple[MLP, optax.OptState, jax.Array]:
        def total(e: MLP) -> tuple[jax.Array, jax.Array]:
            losses = losses_of(e)
            return losses.sum(), losses  # members are independent: the sum's gradient is each one's

        (_, losses), grads = jax.value_and_grad(total, has_aux=True)(ensemble)
        updates, opt_state = optimizer.update(grads, opt_state, ensemble)
        return optax.apply_updates(ensemble, updates), opt_state, losses

    for i in range(args.steps):
        ensemble, opt_state, losses = step(ensemble, opt_state)
        if i % max(1, args.steps // 5) == 0 or i == args.steps - 1:
            print(f"step {i:5d}: member losses {' '.join(f'{float(l):.4f}' for l in losses)}")

    predict = nox.VMap(ensemble, in_axes=None, fn_axis=0)  # every member on the same inputs
    inside, outside = jnp.array([[0.5]]), jnp.array([[4.0]])
    spread_in, spread_out = float(predict(inside).std()), float(predict(outside).std())
    print(f"member spread at x=0.5 (trained): {spread_in:.3f}; at x=4.0 (never seen): {spread_out:.3f}")
    members = nox.unstack(ensemble)
    print(f"{len(members)} members, each an {type(members[0]).__name__}; best loss {float(losses.min()):.4f}")


if __name__ == "__main__":
    main()
