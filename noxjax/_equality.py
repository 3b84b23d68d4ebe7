"""Structural `==` and `hash` of modules.

`==` holds when the treedefs are equal (same classes, same statics, compared
type-strictly) and the leaves have equal shape, dtype and values (NaN equal to NaN).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import MSG_TRACED_EQ, MSG_UNHASHABLE, TracerComparisonError, UnhashableModuleError
from ._jaxapi import Tracer, keystr, tree_flatten, tree_flatten_with_path
from ._static import is_array, is_inexact_array

__all__ = ["module_eq", "module_hash", "leaves_equal", "tree_equal"]


def module_eq(self: Any, other: object) -> Any:  # bool, or NotImplemented
    if type(other) is not type(self):
        return NotImplemented
    if self is other:
        return True
    a_leaves, a_def = tree_flatten(self)
    b_leaves, b_def = tree_flatten(other)
    _check_not_traced(self, a_leaves)
    _check_not_traced(other, b_leaves)
    return a_def == b_def and all(map(leaves_equal, a_leaves, b_leaves))


def _check_not_traced(tree: Any, leaves: list[Any]) -> None:
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, Tracer):
            path = keystr(tree_flatten_with_path(tree)[0][i][0])
            raise TracerComparisonError(MSG_TRACED_EQ.format(cls=type(tree).__qualname__, path=path))


def leaves_equal(a: Any, b: Any) -> bool:
    """Equal shape, dtype and values; NaN equals NaN; exact type for non-arrays."""
    if not (is_array(a) and is_array(b)):
        return type(a) is type(b) and (a == b or (a != a and b != b))
    if isinstance(a, jax.ShapeDtypeStruct) or isinstance(b, jax.ShapeDtypeStruct):
        return type(a) is type(b) and a == b
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if jnp.issubdtype(a.dtype, jax.dtypes.prng_key):
        a, b = jax.random.key_data(a), jax.random.key_data(b)
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.array_equal(a, b, equal_nan=bool(jnp.issubdtype(a.dtype, jnp.inexact))))


def module_hash(self: Any) -> int:
    leaves, treedef = tree_flatten(self)
    if leaves:
        leaves_with_paths = tree_flatten_with_path(self)[0]
        paths = [keystr(p) for p, _ in leaves_with_paths[:3]]
        more = ", ..." if len(leaves_with_paths) > 3 else ""
        raise UnhashableModuleError(MSG_UNHASHABLE.format(cls=type(self).__qualname__, paths=", ".join(paths) + more))
    return hash(treedef)


def tree_equal(a: Any, b: Any, *, rtol: float = 0.0, atol: float = 0.0) -> Any:
    """Whether two pytrees are equal: structure, classes, statics, shapes, dtypes and
    values, with values compared as `|a - b| <= atol + rtol * |b|` (NaN equal to NaN).

    Returns a bool, or a traced boolean array when any leaf is traced (inside
    `jax.jit`, `jax.grad`, ...).

    Never raises for trees of different structures: they are simply not equal.

    Examples:
        >>> import jax.numpy as jnp
        >>> import noxjax as nox
        >>> nox.tree_equal({"w": jnp.ones(2)}, {"w": jnp.ones(2) + 1e-7}, atol=1e-6)
        True
        >>> nox.tree_equal((1, jnp.ones(2)), (1.0, jnp.ones(2)))   # 1 and 1.0 differ
        False
    """
    a_leaves, a_def = tree_flatten(a)
    b_leaves, b_def = tree_flatten(b)
    if a_def != b_def:
        return False
    traced: list[Any] = []
    for x, y in zip(a_leaves, b_leaves):
        if isinstance(x, Tracer) or isinstance(y, Tracer):
            if not (is_array(x) and is_array(y)) or x.shape != y.shape or x.dtype != y.dtype:
                return False
            traced.append(_traced_close(x, y, rtol, atol))
        elif not (_close(x, y, rtol, atol) if rtol or atol else leaves_equal(x, y)):
            return False
    return jnp.all(jnp.stack(traced)) if traced else True


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    """Equal, except that inexact arrays of one shape and dtype may differ by the tolerance."""
    if not (is_inexact_array(a) and is_inexact_array(b)) or isinstance(a, jax.ShapeDtypeStruct) or isinstance(b, jax.ShapeDtypeStruct):
        return leaves_equal(a, b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.all(np.isclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, equal_nan=True)))


def _traced_close(a: Any, b: Any, rtol: float, atol: float) -> Any:
    if is_inexact_array(a):
        return jnp.all(jnp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    return jnp.all(a == b)
