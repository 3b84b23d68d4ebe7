"""A jitted nox.ValueAndGrad + optax SGD step against the raw-JAX step, and the
compile time of nox.Scan over 48 layers against the unrolled Python loop.

    python benchmarks/grad.py
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp
import optax

import noxjax as nox
from _timing import print_table
from dispatch import Linear, pipelined


def mlp(key: jax.Array, width: int, depth: int) -> nox.Sequential:
    keys = jax.random.split(key, depth)
    return nox.Sequential([Linear(jax.random.normal(k, (width, width)) / width**0.5, jnp.zeros(width)) for k in keys])


def loss(model: nox.Sequential, xs: jax.Array) -> jax.Array:
    return jnp.mean(jax.vmap(model)(xs) ** 2)


def step_times(width: int = 32, depth: int = 3) -> tuple[float, float]:
    model = mlp(jax.random.key(0), width, depth)
    xs = jax.random.normal(jax.random.key(1), (64, width))
    tx = optax.sgd(1e-2)
    state = tx.init(model)

    @jax.jit
    def raw_step(m: Any, s: Any, xs: jax.Array) -> Any:
        value, grads = jax.value_and_grad(loss)(m, xs)
        updates, s = tx.update(grads, s, m)
        return optax.apply_updates(m, updates), s, value

    @nox.jit
    def nox_step(m: Any, s: Any, xs: jax.Array) -> Any:
        value, grads = nox.ValueAndGrad(loss)(m, xs)
        updates, s = tx.update(grads, s, m)
        return optax.apply_updates(m, updates), s, value

    raw, nox_t = float("inf"), float("inf")
    for _ in range(7):  # interleaved, so drift in machine speed hits both alike
        raw = min(raw, pipelined(lambda: raw_step(model, state, xs), repeat=1))
        nox_t = min(nox_t, pipelined(lambda: nox_step(model, state, xs), repeat=1))
    return raw, nox_t


def compile_seconds(fn: Any, *args: Any) -> float:
    start = time.perf_counter()
    jax.jit(fn).lower(*args).compile()
    return time.perf_counter() - start


def scan_compile(depth: int = 48, width: int = 32, repeat: int = 3) -> tuple[float, float, float]:
    """Best-of-`repeat` trace + lower + compile seconds, each time a fresh function."""
    layers = list(mlp(jax.random.key(2), width, depth).layers)
    stacked = nox.stack(layers)
    x = jnp.ones(width)
    compile_seconds(lambda x: jnp.tanh(x) * 2, x)  # one-time XLA start-up, charged to neither

    def unrolled() -> Any:
        def run(layers: Any, x: jax.Array) -> jax.Array:
            for layer in layers:
                x = layer(x)
            return x

        return run

    scan_times = [compile_seconds(lambda st, x: nox.Scan(st)(x), stacked, x) for _ in range(repeat)]
    raw_scan_times = [compile_seconds(lambda st, x: jax.lax.scan(_body, x, st)[0], stacked, x) for _ in range(repeat)]
    loop_times = [compile_seconds(unrolled(), layers, x) for _ in range(repeat)]
    return min(loop_times), min(scan_times), min(raw_scan_times)


def _body(carry: jax.Array, layer: Any) -> tuple[jax.Array, None]:
    return layer(carry), None


def main() -> None:
    raw, nox_t = step_times()
    unrolled, scanned, raw_scanned = scan_compile()
    print_table(
        "training step and compile time (goals: step nox/raw <= 1.05, scan compile >= 5x faster)",
        ["measure", "raw JAX", "noxjax", "ratio"],
        [
            ["ValueAndGrad + optax.sgd step, width 32 (us)", raw * 1e6, nox_t * 1e6, nox_t / raw],
            ["compile s: unrolled loop (raw) vs nox.Scan, 48 layers", unrolled, scanned, unrolled / scanned],
            ["compile s: jax.lax.scan (raw) vs nox.Scan, 48 layers", raw_scanned, scanned, raw_scanned / scanned],
        ],
    )


if __name__ == "__main__":
    main()
