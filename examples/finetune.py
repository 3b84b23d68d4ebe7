"""Fine-tune a pretrained network with its body frozen.

    python examples/finetune.py [--steps 1000]

Pretrains a feature extractor and head on one task, then trains a new head on
another task while the body stays frozen, two ways: `nox.partition` (only the
head is differentiated) and `optax.multi_transform` with `nox.labeler` (the
optimizer zeroes the body's updates). Both leave the body bit for bit unchanged.
(`multi_transform` with a module that has `__call__` needs optax 0.2.4 or newer.)
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax

import noxjax as nox


class Dense(nox.Module):
    w: jax.Array
    b: jax.Array

    @classmethod
    def init(cls, key: jax.Array, d_in: int, d_out: int) -> Dense:
        return cls(jax.random.normal(key, (d_in, d_out)) / d_in**0.5, jnp.zeros(d_out))

    def __call__(self, x: jax.Array) -> jax.Array:
        return x @ self.w + self.b


class Net(nox.Module):
    body: tuple[Dense, ...] = nox.field(tags=("body",))
    head: Dense

    @classmethod
    def init(cls, key: jax.Array) -> Net:
        k1, k2, k3 = jax.random.split(key, 3)
        return cls((Dense.init(k1, 2, 64), Dense.init(k2, 64, 64)), Dense.init(k3, 64, 1))

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.body:
            x = jnp.tanh(layer(x))
        return self.head(x)


def train(net: Net, optimizer: optax.GradientTransformation, x: jax.Array, y: jax.Array, steps: int, trainable: object = None) -> Net:
    """Adam steps on the leaves `trainable` selects (default: all)."""
    opt_state = optimizer.init(net)

    @nox.jit
    def step(net: Net, opt_state: optax.OptState) -> tuple[Net, optax.OptState, jax.Array]:
        if trainable is None:
            loss, grads = jax.value_and_grad(lambda n: jnp.mean((n(x) - y) ** 2))(net)
        else:  # differentiate only the selected part; the rest is a constant
            params, frozen = nox.partition(net, trainable)
            loss, grads = jax.value_and_grad(lambda p: jnp.mean((nox.combine(p, frozen)(x) - y) ** 2))(params)
            grads = nox.combine(grads, jax.tree.map(jnp.zeros_like, frozen))
        updates, opt_state = optimizer.update(grads, opt_state, net)
        return optax.apply_updates(net, updates), opt_state, loss

    for _ in range(steps):
        net, opt_state, loss = step(net, opt_state)
    print(f"  final loss {float(loss):.4f}")
    return net


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    x = jax.random.uniform(jax.random.key(1), (256, 2), minval=-2, maxval=2)

    print("pretraining on y = sin(x0) * cos(x1)")
    net = train(Net.init(jax.random.key(0)), optax.adam(3e-3), x, (jnp.sin(x[:, 0]) * jnp.cos(x[:, 1]))[:, None], args.steps)
    task = (jnp.sin(x[:, 0]) * jnp.cos(x[:, 1]) + 0.5 * x[:, 0])[:, None]
    fresh = nox.replace(net, head=Dense.init(jax.random.key(9), 64, 1))

    print("fine-tuning the head, body frozen by nox.partition")
    tuned = train(fresh, optax.adam(3e-3), x, task, args.steps, trainable=".head")
    print("fine-tuning the head, body frozen by optax.multi_transform")
    labels = nox.labeler({"frozen": nox.tag("body")}, default="train")
    tuned2 = train(fresh, optax.multi_transform({"train": optax.adam(3e-3), "frozen": optax.set_to_zero()}, labels), x, task, args.steps)

    for name, result in (("partition", tuned), ("multi_transform", tuned2)):
        unchanged = nox.tree_equal(result.body, net.body)
        print(f"{name}: body unchanged: {unchanged}; head changed: {not nox.tree_equal(result.head, fresh.head)}")
        if not unchanged:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
