"""Per-call dispatch cost of nox.Jit against raw jax.jit on the same pytree and
against equinox.filter_jit: 200 pipelined calls, blocking only on the last.

    python benchmarks/dispatch.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

import noxjax as nox
from _timing import print_table


class Linear(nox.Module):
    w: jax.Array
    b: jax.Array

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.tanh(self.w @ x + self.b)


class Net(nox.Module):
    """A model whose `__call__` is decorated with `@nox.jit`."""

    layers: nox.Sequential

    @nox.jit
    def __call__(self, x: jax.Array) -> jax.Array:
        return self.layers(x)

    @nox.jit
    def apply(self, x: jax.Array) -> jax.Array:  # not a dunder: `net.apply` is a BoundMethod
        return self.layers(x)


class EqxLinear(eqx.Module):
    w: jax.Array
    b: jax.Array

    def __call__(self, x: jax.Array, *, key: Any = None) -> jax.Array:
        return jnp.tanh(self.w @ x + self.b)


def pipelined(call: Callable[[], Any], calls: int = 200, repeat: int = 7) -> float:
    """Seconds per call, issuing `calls` calls and blocking on the last one."""
    jax.block_until_ready(call())
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls - 1):
            call()
        jax.block_until_ready(call())
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main() -> None:
    rows = []
    for depth in (3, 100):
        keys = jax.random.split(jax.random.key(0), depth)
        layers = [Linear(jax.random.normal(k, (8, 8)), jnp.zeros(8)) for k in keys]
        model = nox.Sequential(layers)
        eqx_model = eqx.nn.Sequential([EqxLinear(l.w, l.b) for l in layers])
        x = jnp.ones(8)

        def apply(m: Any, x: jax.Array) -> jax.Array:
            return m(x)

        raw = jax.jit(apply)
        net = Net(model)
        raw_net = jax.jit(Net.__dict__["apply"].fn)  # raw jax.jit(f)(net, x) of the undecorated method
        nox_method = nox.Jit(model)
        nox_function = nox.jit(apply)
        eqx_jit = eqx.filter_jit(apply)
        calls = {
            "raw": lambda: raw(model, x),
            "method": lambda: nox_method(x),
            "function": lambda: nox_function(model, x),
            "eqx": lambda: eqx_jit(eqx_model, x),
            "raw_net": lambda: raw_net(net, x),
            "decorated": lambda: net(x),
            "bound": lambda: net.apply(x),
        }
        best = dict.fromkeys(calls, float("inf"))
        for _ in range(7):  # interleaved, so drift in machine speed hits all alike
            for name, call in calls.items():
                best[name] = min(best[name], pipelined(call, repeat=1))
        t_raw, t_method, t_function, t_eqx, t_raw_net, t_decorated, t_bound = best.values()
        rows.append([depth, t_raw * 1e6, t_method * 1e6, t_function * 1e6, t_decorated * 1e6, t_bound * 1e6,
                     t_eqx * 1e6, t_method / t_raw, t_function / t_raw, t_decorated / t_raw_net,
                     t_bound / t_raw_net, t_eqx / t_function])
    print_table(
        "per-call cost, us (goals: nox/raw <= 1.2, eqx/nox >= 4)",
        ["layers", "raw jax.jit", "nox.Jit(model)(x)", "nox.jit(f)(model, x)", "@nox.jit __call__",
         "@nox.jit m.apply", "eqx.filter_jit", "Jit(model)/raw", "jit(f)/raw", "__call__/raw", "m.apply/raw",
         "eqx/jit(f)"],
        rows,
    )


if __name__ == "__main__":
    main()
