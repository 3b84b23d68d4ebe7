"""Train a small MLP with noxjax and plain JAX (no optimiser library needed).

    python examples/train.py

The model is a tree of frozen modules: arrays are parameters, everything else
(sizes, activation names) is static and stays out of the gradient.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp

import noxjax as nox


class Linear(nox.Module):
    w: jax.Array
    b: jax.Array

    @classmethod
    def init(cls, key: jax.Array, d_in: int, d_out: int) -> "Linear":
        return cls(w=jax.random.normal(key, (d_out, d_in)) / jnp.sqrt(d_in), b=jnp.zeros(d_out))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.w @ x + self.b


class MLP(nox.Module):
    body: nox.Sequential
    sizes: tuple[int, ...]

    @classmethod
    def init(cls, key: jax.Array, sizes: tuple[int, ...]) -> "MLP":
        keys = jax.random.split(key, len(sizes) - 1)
        layers: list[Callable[[jax.Array], jax.Array]] = []
        for k, d_in, d_out in zip(keys, sizes[:-1], sizes[1:]):
            layers += [Linear.init(k, d_in, d_out), jax.nn.tanh]
        return cls(body=nox.Sequential(layers[:-1]), sizes=sizes)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.body(x)


def main() -> None:
    key_data, key_model = jax.random.split(jax.random.key(0))
    xs = jax.random.uniform(key_data, (512, 1), minval=-3, maxval=3)
    ys = jnp.sin(xs)
    model = MLP.init(key_model, (1, 64, 64, 1))
    print(model)

    def loss_fn(m: MLP) -> jax.Array:
        return jnp.mean((jax.vmap(m)(xs) - ys) ** 2)

    @jax.jit
    def step(m: MLP) -> tuple[MLP, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(m)
        return jax.tree.map(lambda p, g: p - 0.05 * g, m, grads), loss

    start = time.perf_counter()
    for i in range(2001):
        model, loss = step(model)
        if i % 500 == 0:
            print(f"step {i:5d}  loss {float(loss):.5f}")
    print(f"trained in {time.perf_counter() - start:.1f}s; sizes {model.sizes} stayed static")
    assert float(loss) < 0.01, "training did not converge"


if __name__ == "__main__":
    main()
