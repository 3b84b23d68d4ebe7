"""Typed sharding API: field axes, shardings, shard, load(mesh=), noxjax.orbax."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec
from typing_extensions import assert_type

import noxjax as nox
import noxjax.orbax


class Dense(nox.Module):
    w: jax.Array = nox.field(axes=("embed", None))


mesh = Mesh(np.array(jax.devices()[:1]), ("model",))
model = Dense(jnp.ones((2, 2)))
assert_type(nox.shardings(model, mesh, rules={"embed": "model"}), Any)
assert_type(nox.shard(model, mesh, specs={".w": PartitionSpec("model")}), Any)  # type: ignore[no-untyped-call]  # jax
assert_type(nox.load("m.nox", like=model, mesh=mesh, rules={"embed": ("model",)}), Dense)
noxjax.orbax.Save(model, metadata={"step": 1})
noxjax.orbax.Restore(mesh=mesh, rules={"embed": None})
nox.shardings(model, mesh, rules={"embed": 1})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
