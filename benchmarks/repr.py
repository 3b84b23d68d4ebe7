"""repr of a 1000-layer model: noxjax, Equinox and flax.struct side by side.

    python benchmarks/repr.py

Goal: noxjax under 50 ms, touching no array values (each layer holds two arrays).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import flax.struct
import jax
import jax.numpy as jnp

import noxjax as nox
from _timing import print_table


class NoxLayer(nox.Module):
    w: jax.Array
    b: jax.Array
    activation: str = "relu"


class EqxLayer(eqx.Module):
    w: jax.Array
    b: jax.Array
    activation: str = eqx.field(static=True, default="relu")


@flax.struct.dataclass
class FlaxLayer:
    w: jax.Array
    b: jax.Array
    activation: str = flax.struct.field(pytree_node=False, default="relu")


def best_ms(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main() -> None:
    w, b = jnp.ones((64, 64)), jnp.zeros(64)
    models = {
        "noxjax": nox.Sequential([NoxLayer(w, b) for _ in range(1000)]),
        "equinox": eqx.nn.Sequential([EqxLayer(w, b) for _ in range(1000)]),  # type: ignore[list-item]
        "flax.struct": [FlaxLayer(w, b) for _ in range(1000)],
    }
    times = {name: best_ms(lambda m=m: repr(m)) for name, m in models.items()}
    rows = [[name, t, times["noxjax"] / t, len(repr(models[name]))] for name, t in times.items()]
    print_table("repr of 1000 layers", ["library", "ms", "x noxjax time", "characters"], rows)


if __name__ == "__main__":
    main()
