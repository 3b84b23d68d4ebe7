"""Flatten, round trip and construction cost of noxjax modules against
jax.tree_util.register_dataclass, flax.struct and equinox, plus import time.

    python benchmarks/pytree.py

Each row is a model of N Linear modules (two arrays, an int and a str static).
Ratios are other / noxjax for speed-ups and noxjax / register_dataclass for the
flatten budget; goals are printed beside them.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import subprocess
import sys

import equinox as eqx
import flax.struct
import jax
import jax.numpy as jnp
import jax.tree_util as jtu

import noxjax as nox
from _timing import best_seconds, print_table


@nox.module
class NoxLinear:
    w: jax.Array
    b: jax.Array
    n: int = 3
    act: str = "relu"


@functools.partial(jtu.register_dataclass, data_fields=["w", "b"], meta_fields=["n", "act"])
@dataclasses.dataclass(frozen=True)
class RawLinear:
    w: jax.Array
    b: jax.Array
    n: int = 3
    act: str = "relu"


@flax.struct.dataclass
class FlaxLinear:
    w: jax.Array
    b: jax.Array
    n: int = flax.struct.field(pytree_node=False, default=3)
    act: str = flax.struct.field(pytree_node=False, default="relu")


class EqxLinear(eqx.Module):
    w: jax.Array
    b: jax.Array
    n: int = eqx.field(static=True, default=3)
    act: str = eqx.field(static=True, default="relu")


LIBS = {"noxjax": NoxLinear, "register_dataclass": RawLinear, "flax.struct": FlaxLinear, "equinox": EqxLinear}


def _round_trip(model: object) -> object:
    leaves, treedef = jtu.tree_flatten(model)
    return jtu.tree_unflatten(treedef, leaves)


def measure(n: int) -> dict[str, dict[str, float]]:
    w, b = jnp.ones((4, 4)), jnp.zeros(4)
    out: dict[str, dict[str, float]] = {}
    for lib, cls in LIBS.items():
        model = [cls(w=w, b=b) for _ in range(n)]
        out[lib] = {
            "flatten": best_seconds(lambda: jtu.tree_flatten(model)),
            "round_trip": best_seconds(lambda: _round_trip(model)),
            "construct": best_seconds(lambda: [cls(w=w, b=b) for _ in range(n)]) / n,
        }
    return out


def import_overhead_ms(runs: int = 7) -> float:
    """Extra wall time of `import noxjax` after `import jax`, with bytecode cached
    as a pip install leaves it (so PYTHONDONTWRITEBYTECODE is dropped)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = "import time, jax; t = time.perf_counter(); import noxjax; print(time.perf_counter() - t)"
    subprocess.run([sys.executable, "-c", "import noxjax"], check=True, env=env)  # writes the bytecode
    times = [float(subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True).stdout)
             for _ in range(runs)]
    return min(times) * 1e3


def main() -> None:
    rows = []
    for n in (1, 10, 100, 1000):
        t = measure(n)
        nox_t, raw, fx, eq = t["noxjax"], t["register_dataclass"], t["flax.struct"], t["equinox"]
        rows.append([
            n,
            nox_t["flatten"] / raw["flatten"],
            fx["round_trip"] / nox_t["round_trip"],
            eq["round_trip"] / nox_t["round_trip"],
            nox_t["construct"] * 1e6,
            eq["construct"] / nox_t["construct"],
        ])
    print_table(
        "pytree costs (goals: flatten <= 1.8x raw; round trip >= 2x flax, >= 3x eqx; "
        "construct <= 3 us and >= 5x eqx)",
        ["N", "flatten nox/raw", "round trip flax/nox", "round trip eqx/nox", "construct us", "construct eqx/nox"],
        rows,
    )
    print(f"\nimport noxjax over import jax: {import_overhead_ms():.1f} ms (goal <= 30 ms)")


if __name__ == "__main__":
    main()
