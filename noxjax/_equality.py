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
from ._static import is_array

__all__ = ["module_eq", "module_hash", "leaves_equal"]


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
