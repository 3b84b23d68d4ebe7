"""Stacked modules: `nox.stack`, `nox.unstack`, and `nox.Scan` over their layers."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Generic, TypeVar, cast

import jax
import jax.numpy as jnp

from ._jaxapi import keystr, tree_flatten, tree_flatten_with_path
from ._errors import StructureError
from ._module import Module
from ._static import canonical, is_array, is_module

__all__ = ["stack", "unstack", "Scan"]

T = TypeVar("T")


def stack(modules: Sequence[T]) -> T:
    """One module whose arrays have a new leading axis, one entry per module.

    The modules must have the same class, structure and statics; otherwise a
    `ValueError` names the first difference.

    Raises `nox.StructureError` (a `ValueError`) for no modules, or modules that
    differ.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Bias:
        ...     b: jax.Array
        >>> nox.stack([Bias(jnp.zeros(3)), Bias(jnp.ones(3))]).b.shape
        (2, 3)
    """
    if not modules:
        raise StructureError("nox.stack needs at least one module")
    flat = [tree_flatten(m) for m in modules]
    treedef = flat[0][1]
    for i, (_, other) in enumerate(flat[1:], 1):
        if other != treedef:
            raise StructureError(f"nox.stack: module {i} differs from module 0 at {_first_difference(modules[0], modules[i], '')}")
    return treedef.unflatten([jnp.stack(xs) for xs in zip(*(leaves for leaves, _ in flat))])  # type: ignore[no-any-return]


def unstack(stacked: T) -> list[T]:
    """The modules `nox.stack` was given: slices along the leading axis of every array.

    Raises `nox.StructureError` for a module without arrays, or whose arrays
    disagree on the leading axis.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Bias:
        ...     b: jax.Array
        >>> [m.b.tolist() for m in nox.unstack(nox.stack([Bias(jnp.zeros(2)), Bias(jnp.ones(2))]))]
        [[0.0, 0.0], [1.0, 1.0]]
    """
    leaves, treedef = tree_flatten(stacked)
    if not leaves:
        raise StructureError("nox.unstack: the module has no arrays to split")
    sizes: set[int] = {x.shape[0] if getattr(x, "ndim", 0) else -1 for x in leaves}
    if len(sizes) != 1 or -1 in sizes:
        paths = [f"{keystr(p)}: {getattr(x, 'shape', ())}" for p, x in tree_flatten_with_path(stacked)[0]]
        raise StructureError(f"nox.unstack: arrays disagree on the leading axis: {', '.join(paths)}")
    (n,) = sizes
    out: list[T] = [treedef.unflatten([x[i] for x in leaves]) for i in range(n)]
    return out


def _first_difference(a: Any, b: Any, path: str) -> str:
    """The path and description of the first static or structural difference."""
    if type(a) is not type(b):
        return f"{path or 'the root'} ({type(a).__qualname__} vs {type(b).__qualname__})"
    if is_module(a):
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if tree_flatten(x)[1] != tree_flatten(y)[1] or _static_differs(x, y):
                return _first_difference(x, y, f"{path}.{f.name}")
    elif type(a) in (tuple, list, dict):
        keys, other = _items(a), _items(b)
        if list(keys) == list(other):
            for k, x in keys.items():
                if tree_flatten(x)[1] != tree_flatten(other[k])[1] or _static_differs(x, other[k]):
                    return _first_difference(x, other[k], f"{path}[{k!r}]")
    return f"{path or 'the root'} ({a!r} vs {b!r})"


def _items(container: object) -> dict[object, object]:
    if isinstance(container, dict):
        return dict(cast("dict[object, object]", container))
    return dict(enumerate(cast("tuple[object, ...]", container)))


def _static_differs(x: Any, y: Any) -> bool:
    if is_array(x) or is_array(y) or is_module(x):
        return False
    try:
        return canonical(x) != canonical(y)
    except TypeError:
        return x is not y


class Scan(Module, Generic[T], name="noxjax.Scan"):
    """Apply the layers of a stacked module in turn, `x = layer(x, *args, **kwargs)`,
    with `jax.lax.scan`: the body compiles once however many layers there are.

    Raises `nox.ArgumentError` for a module that is not stacked.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Add:
        ...     b: jax.Array
        ...     def __call__(self, x):
        ...         return x + self.b
        >>> nox.Scan(nox.stack([Add(jnp.ones(2))] * 3))(jnp.zeros(2))
        Array([3., 3.], dtype=float32)
    """

    stacked: T

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        def body(carry: Any, layer: Any) -> tuple[Any, None]:
            return layer(carry, *args, **kwargs), None

        return jax.lax.scan(body, x, self.stacked)[0]
