"""`nox.field`: a dataclass field with a static override and tags."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar, cast, overload

from ._errors import FieldError
from ._static import IDENTITY, OPEN

__all__ = ["field", "FieldOptions", "field_options", "user_metadata"]

T = TypeVar("T")
_KEY = "__noxjax__"
_MISSING: Any = dataclasses.MISSING


class FieldOptions(NamedTuple):
    static: bool | str | None = None  # str: the internal "open" rule of transform options
    tags: tuple[str, ...] = ()


@overload
def field(
    *,
    default: T,
    static: bool | None = None,
    tags: Iterable[str] = (),
    axes: Sequence[str | None] | None = None,
    init: bool = True,
    repr: bool = True,
    kw_only: bool = ...,
    metadata: Mapping[str, Any] | None = None,
) -> T: ...
@overload
def field(
    *,
    default_factory: Callable[[], T],
    static: bool | None = None,
    tags: Iterable[str] = (),
    axes: Sequence[str | None] | None = None,
    init: bool = True,
    repr: bool = True,
    kw_only: bool = ...,
    metadata: Mapping[str, Any] | None = None,
) -> T: ...
@overload
def field(
    *,
    static: bool | None = None,
    tags: Iterable[str] = (),
    axes: Sequence[str | None] | None = None,
    init: bool = True,
    repr: bool = True,
    kw_only: bool = ...,
    metadata: Mapping[str, Any] | None = None,
) -> Any: ...
def field(
    *,
    default: Any = _MISSING,
    default_factory: Any = _MISSING,
    static: bool | None = None,
    tags: Iterable[str] = (),
    axes: Sequence[str | None] | None = None,
    init: bool = True,
    repr: bool = True,
    kw_only: Any = _MISSING,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """Declare a module field.

    `static=None` (default) applies the static rule to the value; `static=True`
    keeps any hashable value in the treedef; `static=False` makes the value a
    child (traced) even if it is a Python scalar. `tags` label the field for
    filtering; they appear on its `nox.FieldKey`. `axes` names the logical axes of
    an array field, one name (or None) per dimension, for `nox.shardings`; they are
    kept as `metadata["axes"]` on its `nox.FieldKey`.

    Raises `nox.FieldError` for a tag that is not a str, a `static` that is not
    None/True/False, or `axes` that are not a sequence of str or None.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Dense:
        ...     w: jax.Array = nox.field(axes=("embed", "hidden"))
        >>> [(path, w)], _ = jax.tree_util.tree_flatten_with_path(Dense(jnp.ones((2, 3))))
        >>> path[0].metadata["axes"]
        ('embed', 'hidden')
    """
    tags = (tags,) if isinstance(tags, str) else tuple(tags)
    for tag in tags:
        if not isinstance(tag, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise FieldError(f"field tags must be strings, got {tag!r}")
    if static not in (None, True, False):
        raise FieldError(f"field(static=...) takes None, True or False, got {static!r}")
    md = {**(metadata or {}), _KEY: FieldOptions(static, tags)}
    if axes is not None:
        md["axes"] = _axes(axes)
    return dataclasses.field(
        default=default,
        default_factory=default_factory,
        init=init,
        repr=repr,
        kw_only=kw_only,
        metadata=md,
    )


def _axes(axes: object) -> tuple[str | None, ...]:
    if isinstance(axes, str) or not isinstance(axes, Sequence):
        raise FieldError(f"field(axes=...) takes a tuple of axis names (str or None), one per dimension; got {axes!r}")
    names = tuple(cast("Sequence[object]", axes))
    for name in names:
        if name is not None and not isinstance(name, str):
            raise FieldError(f"field(axes=...) takes axis names (str) or None, got {name!r} in {axes!r}")
    return cast("tuple[str | None, ...]", names)


def open_field(*, default: Any = _MISSING) -> Any:
    """A field of a transform: callables and `where`s are held by identity if not savable."""
    return dataclasses.field(default=default, metadata={_KEY: FieldOptions(OPEN, ())})


def identity_field(*, default: Any = _MISSING) -> Any:
    """A field held by identity: never hashed or compared by value (shardings)."""
    return dataclasses.field(default=default, metadata={_KEY: FieldOptions(IDENTITY, ())})


def field_options(f: dataclasses.Field[Any]) -> FieldOptions:
    options: FieldOptions = f.metadata.get(_KEY, FieldOptions())
    return options


def user_metadata(f: dataclasses.Field[Any]) -> Mapping[str, Any]:
    return MappingProxyType({k: v for k, v in f.metadata.items() if k != _KEY})
