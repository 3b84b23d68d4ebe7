"""Checkpoint functions: `like=` keeps the type."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from typing_extensions import assert_type

import noxjax as nox


class Net(nox.Module):
    w: jax.Array


net = Net(jnp.ones(2))
nox.save("net.nox", net, metadata={"step": 1})
assert_type(nox.load("net.nox", like=net), Net)
assert_type(nox.load("net.nox"), Any)
assert_type(nox.loads(nox.dumps(net)), Any)
assert_type(nox.inspect("net.nox").arrays, list[tuple[str, str, tuple[int, ...], int]])

nox.save(net, "net.nox")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
nox.load("net.nox", mmap="yes")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
