"""A 64-block residual network applied with `nox.Scan`: one compiled body.

    python examples/deep_scan.py [--steps 500] [--depth 64]

The blocks are stacked into one module (`nox.stack`); `nox.Scan` runs
`jax.lax.scan` over them, so compile time does not grow with depth. The script
compares compile times with a Python loop over the same blocks, then trains.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import optax

import noxjax as nox


class Block(nox.Module):
    w: jax.Array
    b: jax.Array
    scale: float = 0.1

    @classmethod
    def init(cls, key: jax.Array, width: int) -> Block:
        return cls(jax.random.normal(key, (width, width)) / width**0.5, jnp.zeros(width))

    def __call__(self, x: jax.Array) -> jax.Array:
        return x + self.scale * jnp.tanh(x @ self.w + self.b)


def compile_seconds(fn: object, *args: object) -> float:
    start = time.perf_counter()
    jax.jit(fn).lower(*args).compile()  # type: ignore[arg-type]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--depth", type=int, default=64)
    args = parser.parse_args()

    width = 32
    blocks = [Block.init(k, width) for k in jax.random.split(jax.random.key(0), args.depth)]
    deep = nox.Scan(nox.stack(blocks))
    x = jax.random.normal(jax.random.key(1), (256, width))
    y = jnp.roll(x, 1, axis=-1)  # learn a permutation through the residual stack

    def unrolled(blocks: list[Block], x: jax.Array) -> jax.Array:
        for block in blocks:
            x = block(x)
        return x

    def grad_of(apply: object) -> object:  # compile the backward pass too: it grows with depth
        return jax.grad(lambda model, x: jnp.sum(apply(model, x)))  # type: ignore[operator]

    scan_s = compile_seconds(grad_of(lambda d, x: d(x)), deep, x)
    loop_s = compile_seconds(grad_of(unrolled), blocks, x)
    print(f"compiling forward and backward, {args.depth} blocks: nox.Scan {scan_s:.2f} s, Python loop {loop_s:.2f} s")
    assert jnp.allclose(deep(x), unrolled(blocks, x), atol=1e-4)

    optimizer = optax.adam(3e-3)
    opt_state = optimizer.init(deep)

    @nox.jit
    def step(deep: nox.Scan[Block], opt_state: optax.OptState) -> tuple[nox.Scan[Block], optax.OptState, jax.Array]:
        loss, grads = jax.value_and_grad(lambda d: jnp.mean((d(x) - y) ** 2))(deep)
        updates, opt_state = optimizer.update(grads, opt_state, deep)
        return optax.apply_updates(deep, updates), opt_state, loss

    for i in range(args.steps):
        deep, opt_state, loss = step(deep, opt_state)
        if i % max(1, args.steps // 5) == 0 or i == args.steps - 1:
            print(f"step {i:4d}: loss {float(loss):.4f}")


if __name__ == "__main__":
    main()
