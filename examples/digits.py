"""Classify scikit-learn's bundled handwritten digits (8x8 images).

    python examples/digits.py [--steps 2000] [--out .]

An MLP with LayerNorm and dropout, trained with AdamW whose weight decay skips
biases and norm parameters (the mask comes from `nox.labeler` and field tags).
Shows a progress bar, prints the test accuracy and saves the loss curve to
loss.png. Needs the `examples` extra (scikit-learn, matplotlib, tqdm, optax).
"""

from __future__ import annotations

import argparse
import os

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import noxjax as nox

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


class Dense(nox.Module):
    w: jax.Array = nox.field(tags=("decay",))  # only weights decay
    b: jax.Array

    @classmethod
    def init(cls, key: jax.Array, d_in: int, d_out: int) -> Dense:
        return cls(jax.random.normal(key, (d_in, d_out)) * (2 / d_in) ** 0.5, jnp.zeros(d_out))

    def __call__(self, x: jax.Array) -> jax.Array:
        return x @ self.w + self.b


class LayerNorm(nox.Module):
    scale: jax.Array
    bias: jax.Array
    eps: float = 1e-5

    def __call__(self, x: jax.Array) -> jax.Array:
        mean = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        return (x - mean) / jnp.sqrt(var + self.eps) * self.scale + self.bias


class Classifier(nox.Module):
    hidden: tuple[Dense, ...]
    norms: tuple[LayerNorm, ...]
    out: Dense
    dropout: float = 0.2

    @classmethod
    def init(cls, key: jax.Array, sizes: tuple[int, ...], classes: int) -> Classifier:
        keys = jax.random.split(key, len(sizes))
        hidden = tuple(Dense.init(k, i, o) for k, i, o in zip(keys, sizes[:-1], sizes[1:]))
        norms = tuple(LayerNorm(jnp.ones(o), jnp.zeros(o)) for o in sizes[1:])
        return cls(hidden, norms, Dense.init(keys[-1], sizes[-1], classes))

    def __call__(self, x: jax.Array, key: jax.Array | None = None) -> jax.Array:
        for i, (dense, norm) in enumerate(zip(self.hidden, self.norms)):
            x = jax.nn.gelu(norm(dense(x)))
            if key is not None:  # training: dropout
                keep = jax.random.bernoulli(jax.random.fold_in(key, i), 1 - self.dropout, x.shape)
                x = jnp.where(keep, x / (1 - self.dropout), 0)
        return self.out(x)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0)

    model = Classifier.init(jax.random.key(0), (64, 128, 128), 10)
    decay_mask = nox.labeler({True: nox.tag("decay")}, default=False)
    optimizer = optax.adamw(optax.cosine_decay_schedule(3e-3, args.steps), weight_decay=1e-2, mask=decay_mask)
    opt_state = optimizer.init(model)

    def loss_fn(model: Classifier, x: jax.Array, y: jax.Array, key: jax.Array) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(model(x, key), y).mean()

    @nox.jit
    def step(
        model: Classifier, opt_state: optax.OptState, x: jax.Array, y: jax.Array, key: jax.Array
    ) -> tuple[Classifier, optax.OptState, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(model, x, y, key)
        updates, opt_state = optimizer.update(grads, opt_state, model)
        return optax.apply_updates(model, updates), opt_state, loss

    rng = np.random.default_rng(0)
    losses = []
    for i in tqdm(range(args.steps), desc="training", mininterval=1.0):
        batch = rng.choice(len(x_train), 64)
        model, opt_state, loss = step(model, opt_state, x_train[batch], y_train[batch], jax.random.key(i))
        losses.append(float(loss))

    accuracy = float((jnp.argmax(jax.jit(lambda m, x: m(x))(model, x_test), -1) == y_test).mean())
    print(f"test accuracy: {accuracy:.3f} on {len(y_test)} digits")
    plt.figure(figsize=(5, 3))
    plt.plot(np.convolve(losses, np.ones(20) / 20, mode="valid"))
    plt.yscale("log")
    plt.xlabel("step")
    plt.ylabel("training loss (20-step mean)")
    plt.tight_layout()
    plt.savefig(os.path.join(args.out, "loss.png"), dpi=100)
    print(f"loss curve: {os.path.join(args.out, 'loss.png')}")


if __name__ == "__main__":
    main()
