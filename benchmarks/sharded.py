"""Sharded save and restore on 8 CPU devices: noxjax native, noxjax.orbax, and
orbax's StandardCheckpointer, side by side on one model.

    python benchmarks/sharded.py [--mb 400]

The model (float32, 8 arrays) is sharded on a (2, 4) mesh and restored onto a
(4, 2) mesh. Throughput is model bytes per second of wall time, best of 3; the
ratio column is against orbax StandardCheckpointer.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import orbax.checkpoint as ocp  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

import noxjax as nox  # noqa: E402
import noxjax.orbax  # noqa: E402
from _timing import print_table  # noqa: E402


class Layer(nox.Module):
    w: jax.Array = nox.field(axes=("embed", "hidden"))


def best(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        os.sync()
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=400)
    args = parser.parse_args()
    source = Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))
    target = Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model"))
    rules = {"embed": "data", "hidden": "model"}
    rows = args.mb * 2**20 // 4 // 8 // 1024
    # random values: orbax compresses (zstd), and constant arrays would compress to nothing
    model = [nox.shard(Layer(jax.random.normal(jax.random.key(i), (rows, 1024))), source, rules=rules) for i in range(8)]
    nbytes = sum(layer.w.nbytes for layer in model)
    shardings = nox.shardings(model, target, rules=rules)
    abstract = jax.tree_util.tree_map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), model, shardings)
    directory = tempfile.mkdtemp(dir=os.path.abspath("."))
    path = lambda name: os.path.join(directory, name)  # noqa: E731

    def fresh(name: str) -> str:
        shutil.rmtree(path(name), ignore_errors=True)
        return path(name)

    standard = ocp.StandardCheckpointer()
    saves = {
        "orbax StandardCheckpointer": lambda: (standard.save(fresh("std"), model, force=True), standard.wait_until_finished()),
        "noxjax.orbax": lambda: noxjax.orbax.save(fresh("nox-orbax"), model),
        "nox.save (one process)": lambda: nox.save(path("m.nox"), model),
    }
    loads = {
        "orbax StandardCheckpointer": lambda: standard.restore(path("std"), abstract),
        "noxjax.orbax": lambda: noxjax.orbax.load(path("nox-orbax"), mesh=target, rules=rules),
        "nox.load(mesh=)": lambda: nox.load(path("m.nox"), mesh=target, rules=rules),
    }
    try:
        save_times = {name: best(fn) for name, fn in saves.items()}
        load_times = {name: best(fn) for name, fn in loads.items()}
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    table = []
    base_save, base_load = save_times["orbax StandardCheckpointer"], load_times["orbax StandardCheckpointer"]
    for name, t in save_times.items():
        table.append([f"{args.mb} MB", "save", name, nbytes / t / 1e9, base_save / t])
    for name, t in load_times.items():
        table.append([f"{args.mb} MB", "restore", name, nbytes / t / 1e9, base_load / t])
    print_table("sharded save/restore, 8 CPU devices, (2,4) -> (4,2) mesh", ["model", "op", "who", "GB/s", "x orbax"], table)


if __name__ == "__main__":
    main()
