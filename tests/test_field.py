"""nox.field."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import pytest

import noxjax as nox


def test_field_passes_dataclass_options() -> None:
    class F(nox.Module):
        w: jax.Array = nox.field(default_factory=lambda: jnp.ones(1), repr=False)
        hidden: int = nox.field(default=0, init=False)
        k: int = nox.field(default=1, kw_only=True)

    m = F()
    assert "w=" not in repr(m) and m.hidden == 0 and m.k == 1
    assert [f.name for f in dataclasses.fields(F) if f.init] == ["w", "k"]


def test_bad_field_options() -> None:
    with pytest.raises(nox.FieldError, match="tags must be strings"):
        nox.field(tags=(1,))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    with pytest.raises(nox.FieldError, match="takes None, True or False"):
        nox.field(static="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
