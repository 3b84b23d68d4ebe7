"""nox.Sequential."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import noxjax as nox
from noxjax._pytree import class_info
from conftest import Linear


def test_sequential_applies_in_order_and_indexes() -> None:
    a, b = Linear.init(jax.random.key(0), 3, 4), Linear.init(jax.random.key(1), 4, 2)
    seq = nox.Sequential([a, jax.nn.relu, b])
    x = jnp.ones(3)
    assert jnp.allclose(seq(x), b(jax.nn.relu(a(x))))
    assert len(seq) == 3 and seq[0] is a and seq[1] is jax.nn.relu
    assert isinstance(seq[1:], nox.Sequential) and len(seq[1:]) == 2
    assert list(seq) == [a, jax.nn.relu, b]
    assert type(seq.layers) is tuple


def test_sequential_rejects_lambdas() -> None:
    with pytest.raises(nox.FieldError, match=r"Sequential\.layers\[0\]"):
        nox.Sequential([lambda x: x])


def test_sequential_name_is_fixed() -> None:
    assert class_info(nox.Sequential).name == "noxjax.Sequential"
