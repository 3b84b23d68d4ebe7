"""One process of a multi-host job, for tests/test_multihost.py.

    python multihost_run.py PROCESS_ID NUM_PROCESSES PORT ACTION DIRECTORY

Each process has 8 / NUM_PROCESSES CPU devices; together they train the MLP of
tests/multidevice/mlp.py data-parallel on one 8-device mesh. ACTION is
`start` (train K steps from scratch, save with noxjax.orbax to DIRECTORY/ckpt),
`resume` (restore DIRECTORY/ckpt, train K more steps) or `straight` (2K steps from
scratch). Process 0 writes the final parameters (a dict) to DIRECTORY/<action>-<n>.nox.
"""

from __future__ import annotations

import os
import sys

process_id, processes, port, action, directory = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={8 // processes}"
os.environ["JAX_PLATFORMS"] = "cpu"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "multidevice"))

import jax  # noqa: E402

if processes > 1:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"localhost:{port}", num_processes=processes, process_id=process_id)

import numpy as np  # noqa: E402
from jax.experimental import multihost_utils  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

import noxjax as nox  # noqa: E402
import noxjax.orbax  # noqa: E402
from mlp import MLP, OPTIMIZER, batch, step  # noqa: E402

K = 3
mesh = Mesh(np.array(jax.devices()), ("data",))
data = NamedSharding(mesh, PartitionSpec("data"))


def place(tree: object, sharding: object) -> object:
    """Host values (the same in every process) as global arrays."""
    return jax.tree_util.tree_map(
        lambda x: jax.make_array_from_callback(np.shape(x), sharding, lambda i: np.asarray(x)[i]), tree
    )


def train(model: MLP, opt: object, first: int, steps: int) -> tuple[MLP, object]:
    state = (nox.shardings(model, mesh), nox.shardings(opt, mesh))
    update = nox.Jit(step, in_shardings=(*state, data, data), out_shardings=state)
    for i in range(first, first + steps):
        x, y = place(jax.device_get(batch(i)), data)
        model, opt = update(model, opt, x, y)
    return model, opt


if action == "resume":
    state = noxjax.orbax.load(os.path.join(directory, "ckpt"), mesh=mesh)
    model, opt = train(state["model"], state["opt"], state["step"], K)
else:
    replicated = NamedSharding(mesh, PartitionSpec())
    model = place(jax.device_get(MLP.init(jax.random.key(0), 8, 16)), replicated)
    opt = place(jax.device_get(OPTIMIZER.init(MLP.init(jax.random.key(0), 8, 16))), replicated)
    model, opt = train(model, opt, 0, K if action == "start" else 2 * K)
    if action == "start":
        if processes > 1:
            try:
                nox.save(os.path.join(directory, "refused.nox"), model)
            except nox.SaveError as e:
                assert "noxjax.orbax.save" in str(e), e
            else:
                raise AssertionError("nox.save took a multi-process array")
        noxjax.orbax.save(os.path.join(directory, "ckpt"), {"model": model, "opt": opt, "step": K})

final = multihost_utils.process_allgather(model, tiled=True)
if process_id == 0:
    nox.save(os.path.join(directory, f"{action}-{processes}.nox"), {k: np.asarray(getattr(final, k)) for k in ("w1", "b1", "w2", "b2")})
print(f"process {process_id}: {action} done", flush=True)
