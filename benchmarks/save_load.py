"""Checkpoint save/load throughput, per-array cost, memory, and inspect time.

    python benchmarks/save_load.py [--quick]

Two models: 10 MB in 1000 arrays and 500 MB in 4 arrays (float32, on CPU). The
baselines, in the same process: raw per-array writes into one file with the same
durability as nox.save (temp file, fsync, rename, fsync dir), raw `readinto` of
each array into 64-byte-aligned buffers handed to JAX, flax.serialization
(msgpack), equinox.tree_serialise_leaves, np.savez and safetensors.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import equinox as eqx
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import safetensors.numpy

import noxjax as nox
from _timing import print_table


def make_model(total_mb: int, n_arrays: int) -> dict[str, jax.Array]:
    per = total_mb * 2**20 // 4 // n_arrays
    return {f"a{i:04d}": jnp.full((per,), i, jnp.float32) for i in range(n_arrays)}


def raw_save(path: str, model: dict[str, jax.Array]) -> None:
    temp = path + ".tmp"
    with open(temp, "wb") as f:
        for x in model.values():
            f.write(memoryview(np.asarray(x)).cast("B"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def raw_load(path: str, model: dict[str, jax.Array]) -> dict[str, jax.Array]:
    out = {}
    with open(path, "rb", buffering=0) as f:
        for name, x in model.items():
            raw = np.empty(x.nbytes + 64, np.uint8)
            start = -raw.ctypes.data % 64
            buffer = raw[start : start + x.nbytes]
            f.readinto(memoryview(buffer))
            out[name] = jax.device_put(buffer.view(np.float32))
    return out


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        os.sync()  # no writeback of earlier files during this run
        start = time.perf_counter()
        result = fn()
        jax.block_until_ready(result)
        times.append(time.perf_counter() - start)
    return min(times)


def peak_extra(fn: Callable[[], Any], baseline: int) -> float:
    """Peak traced host allocation during `fn`, beyond `baseline` bytes, in bytes."""
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return max(0, peak - baseline)


def run(total_mb: int, n_arrays: int, repeat: int, directory: str) -> list[list[Any]]:
    model = make_model(total_mb, n_arrays)
    nbytes = sum(x.nbytes for x in model.values())
    host = {k: np.asarray(v) for k, v in model.items()}
    p = lambda name: os.path.join(directory, name)  # noqa: E731
    saves: dict[str, Callable[[], Any]] = {
        "raw writes": lambda: raw_save(p("raw.bin"), model),
        "noxjax": lambda: nox.save(p("m.nox"), model),
        "noxjax .npz": lambda: nox.save(p("m.npz"), model),
        "flax msgpack": lambda: open(p("flax.msgpack"), "wb").write(flax.serialization.to_bytes(model)),
        "equinox": lambda: eqx.tree_serialise_leaves(p("eqx.eqx"), model),
        "np.savez": lambda: np.savez(p("np.npz"), **host),
        "safetensors": lambda: safetensors.numpy.save_file(host, p("st.safetensors")),
    }
    loads: dict[str, Callable[[], Any]] = {
        "raw readinto": lambda: raw_load(p("raw.bin"), model),
        "noxjax verify=False": lambda: nox.load(p("m.nox"), verify=False),
        "noxjax": lambda: nox.load(p("m.nox")),
        "noxjax mmap": lambda: nox.load(p("m.nox"), mmap=True),
        "noxjax .npz": lambda: nox.load(p("m.npz")),
        "flax msgpack": lambda: flax.serialization.from_bytes(model, open(p("flax.msgpack"), "rb").read()),
        "equinox": lambda: eqx.tree_deserialise_leaves(p("eqx.eqx"), model),
        "np.load": lambda: dict(np.load(p("np.npz"))),
        "safetensors": lambda: safetensors.numpy.load_file(p("st.safetensors")),
    }
    rows = []
    save_times = {name: best(fn, repeat) for name, fn in saves.items()}
    load_times = {name: best(fn, repeat) for name, fn in loads.items()}
    for name, t in save_times.items():
        extra = peak_extra(saves[name], 0) if name in ("noxjax", "flax msgpack", "raw writes") else float("nan")
        rows.append([f"{total_mb} MB/{n_arrays}", "save", name, nbytes / t / 1e9, save_times["raw writes"] / t, extra / nbytes * 100])
    for name, t in load_times.items():
        extra = peak_extra(loads[name], nbytes) if name in ("noxjax", "noxjax verify=False", "flax msgpack", "raw readinto") else float("nan")
        rows.append([f"{total_mb} MB/{n_arrays}", "load", name, nbytes / t / 1e9, load_times["raw readinto"] / t, extra / nbytes * 100])
    per_array_save = (save_times["noxjax"] - save_times["raw writes"]) / n_arrays * 1e6
    per_array_load = (load_times["noxjax verify=False"] - load_times["raw readinto"]) / n_arrays * 1e6
    rows.append([f"{total_mb} MB/{n_arrays}", "over raw", f"per array: save {per_array_save:+.1f} us, load {per_array_load:+.1f} us", "", "", ""])
    start = time.perf_counter()
    for _ in range(20):
        nox.inspect(p("m.nox"))
    rows.append([f"{total_mb} MB/{n_arrays}", "inspect", f"{(time.perf_counter() - start) / 20 * 1e3:.2f} ms", "", "", ""])
    return rows


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def fixed_costs(directory: str, n: int = 1000, repeat: int = 25) -> list[Any]:
    """Per-array cost over raw, from 1000 arrays of 64 bytes (the data costs nothing)."""
    model = {f"a{i:04d}": jnp.full((16,), i, jnp.float32) for i in range(n)}
    raw = best(lambda: raw_save(os.path.join(directory, "tiny.bin"), model), repeat)
    save = best(lambda: nox.save(os.path.join(directory, "tiny.nox"), model), repeat)
    raw_in = best(lambda: raw_load(os.path.join(directory, "tiny.bin"), model), repeat)
    load = best(lambda: nox.load(os.path.join(directory, "tiny.nox"), verify=False), repeat)
    hosts = [np.asarray(x) for x in model.values()]
    # interleaved, so both sides see the same machine state: the gap is a few us in ~16 ms
    verified, batched = [], []
    for _ in range(4 * repeat):
        verified.append(_seconds(lambda: nox.load(os.path.join(directory, "tiny.nox"))))
        batched.append(_seconds(lambda: jax.device_put(hosts)))
    gap = (min(verified) - min(batched)) / n * 1e6
    median = sorted(v - b for v, b in zip(verified, batched))[len(verified) // 2] / n * 1e6
    per = (
        f"per array: save {(save - raw) / n * 1e6:+.1f} us, load {(load - raw_in) / n * 1e6:+.1f} us; "
        f"verified load over one batched device_put {gap:+.1f} us (median of pairs {median:+.1f} us)"
    )
    return [f"64 B/{n}", "fixed", per, "", "", ""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="50 MB instead of 500 MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=".") as directory:
        rows = run(10, 1000, 5, directory) + run(50 if args.quick else 500, 4, 3, directory) + [fixed_costs(directory)]
    print_table(
        "save/load (goals: save >= 0.8x raw; load >= 0.8x raw with verify=False, >= 0.6x verified; "
        "<= 5 us fixed per array; extra memory <= 5%; inspect < 10 ms)",
        ["model", "op", "library", "GB/s", "x raw", "extra mem %"],
        rows,
    )


if __name__ == "__main__":
    main()
