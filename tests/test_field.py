"""nox.field."""

from __future__ import annotations

import dataclasses
from typing import Any

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


def test_axes_are_kept_in_the_field_key_metadata() -> None:
    class Dense(nox.Module):
        w: jax.Array = nox.field(axes=["embed", None], metadata={"note": 1})

    [(path, _)], _ = jax.tree_util.tree_flatten_with_path(Dense(jnp.ones((2, 3))))
    assert path[0].metadata["axes"] == ("embed", None) and path[0].metadata["note"] == 1


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ("embed", r"field\(axes=\.\.\.\) takes a tuple of axis names \(str or None\), one per dimension; got 'embed'"),
        (3, r"takes a tuple of axis names .*got 3"),
        (("embed", 1), r"field\(axes=\.\.\.\) takes axis names \(str\) or None, got 1 in \('embed', 1\)"),
    ],
)
def test_bad_axes_are_field_errors(axes: Any, message: str) -> None:
    with pytest.raises(nox.FieldError, match=message):
        nox.field(axes=axes)
