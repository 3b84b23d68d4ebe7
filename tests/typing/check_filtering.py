"""Filtering keeps the tree's type."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from typing_extensions import assert_type

import noxjax as nox


class Net(nox.Module):
    w: jax.Array
    b: jax.Array


net = Net(jnp.ones(2), jnp.zeros(2))
assert_type(nox.partition(net, "**.w"), tuple[Net, Net])
assert_type(nox.combine(*nox.partition(net, nox.tag("frozen"))), Net)
assert_type(nox.filter(net, Net), Net)
assert_type(nox.map_where(net, lambda path, leaf: leaf.ndim == 1, jnp.zeros_like), Net)
assert_type(nox.at(net, "w").set(jnp.zeros(2)), Net)
assert_type(nox.at(net, "w").get(), list[Any])
assert_type(nox.paths(net), list[str])
labels_fn = nox.labeler({"decay": "**.w"}, default="none")
assert_type(labels_fn(net), Any)

nox.partition(net, 3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
nox.at(net, "w").apply(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
