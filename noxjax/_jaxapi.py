"""Typed views of the JAX tree API that noxjax uses.

jaxlib's stubs leave `PyTreeDef` and key entries partly unknown; naming their
types once here keeps the rest of the package strictly typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import jax
import jax.tree_util as _jtu

__all__ = [
    "KeyPath",
    "PyTreeDef",
    "Tracer",
    "DictKey",
    "SequenceKey",
    "is_leaf_treedef",
    "keystr",
    "register_pytree_with_keys",
    "tree_flatten",
    "device_put",
    "process_count",
    "jit",
    "vmap",
    "grad",
    "value_and_grad",
    "checkpoint",
    "wrap_key_data",
    "shape_dtype_struct",
    "eval_shape",
    "partition_spec",
    "tree_flatten_none_as_leaf",
    "tree_flatten_with_path_none_as_leaf",
    "flatten_one_level_with_path",
    "tree_leaves",
    "tree_flatten_is_leaf",
    "tree_leaves_stop_at",
    "tree_flatten_with_path",
]

PyTreeDef = Any
KeyPath = tuple[Any, ...]
_Flatten = Callable[[Any], tuple[Iterable[Any], Any]]
_FlattenWithKeys = Callable[[Any], tuple[Iterable[tuple[Any, Any]], Any]]

tree_flatten = cast(Callable[[Any], tuple[list[Any], PyTreeDef]], _jtu.tree_flatten)  # pyright: ignore[reportUnknownMemberType]
tree_flatten_with_path = cast(
    Callable[[Any], tuple[list[tuple[KeyPath, Any]], PyTreeDef]], _jtu.tree_flatten_with_path  # pyright: ignore[reportUnknownMemberType]
)
keystr = cast(Callable[[KeyPath], str], _jtu.keystr)  # pyright: ignore[reportUnknownMemberType]
register_pytree_with_keys = cast(
    Callable[[type, _FlattenWithKeys, Callable[[Any, Any], Any], _Flatten], None],
    _jtu.register_pytree_with_keys,  # pyright: ignore[reportUnknownMemberType]
)
DictKey = cast(Callable[[Any], Any], _jtu.DictKey)
SequenceKey = cast(Callable[[int], Any], _jtu.SequenceKey)
Tracer = cast(type, jax.core.Tracer)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


_IsLeaf = Callable[[Any], bool]
_flatten_is_leaf = cast(
    Callable[[Any, _IsLeaf], tuple[list[Any], PyTreeDef]],
    _jtu.tree_flatten,  # pyright: ignore[reportUnknownMemberType]
)
_flatten_with_path_is_leaf = cast(
    Callable[[Any, _IsLeaf], tuple[list[tuple[KeyPath, Any]], PyTreeDef]],
    _jtu.tree_flatten_with_path,  # pyright: ignore[reportUnknownMemberType]
)


device_put = cast(Callable[..., Any], jax.device_put)  # pyright: ignore[reportUnknownMemberType]
process_count = cast(Callable[[], int], jax.process_count)  # pyright: ignore[reportUnknownMemberType]
wrap_key_data = cast(Callable[..., Any], jax.random.wrap_key_data)
eval_shape = cast(Callable[..., Any], jax.eval_shape)  # pyright: ignore[reportUnknownMemberType]
shape_dtype_struct = cast(Callable[..., Any], jax.ShapeDtypeStruct)
partition_spec = cast(Callable[..., Any], jax.sharding.PartitionSpec)
_Transform = Callable[..., Callable[..., Any]]
jit = cast(_Transform, jax.jit)  # pyright: ignore[reportUnknownMemberType]
vmap = cast(_Transform, jax.vmap)
grad = cast(_Transform, jax.grad)  # pyright: ignore[reportUnknownMemberType]
value_and_grad = cast(_Transform, jax.value_and_grad)  # pyright: ignore[reportUnknownMemberType]
checkpoint = cast(_Transform, jax.checkpoint)  # pyright: ignore[reportUnknownMemberType]


def _is_none(x: object) -> bool:
    return x is None


def tree_flatten_is_leaf(tree: Any, is_leaf: _IsLeaf) -> tuple[list[Any], PyTreeDef]:
    """Flatten, keeping every node for which `is_leaf` holds as a leaf."""
    return _flatten_is_leaf(tree, is_leaf)


def tree_flatten_none_as_leaf(tree: Any) -> tuple[list[Any], PyTreeDef]:
    """Flatten keeping `None` as a leaf (JAX treats it as an empty node)."""
    return _flatten_is_leaf(tree, _is_none)


def tree_flatten_with_path_none_as_leaf(tree: Any) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    return _flatten_with_path_is_leaf(tree, _is_none)


tree_leaves = cast(Callable[[Any], list[Any]], _jtu.tree_leaves)
_leaves_is_leaf = cast(Callable[[Any, _IsLeaf], list[Any]], _jtu.tree_leaves)


def tree_leaves_stop_at(tree: Any, is_leaf: _IsLeaf) -> list[Any]:
    """The leaves of `tree`, with every node for which `is_leaf` holds kept whole."""
    return _leaves_is_leaf(tree, is_leaf)


def flatten_one_level_with_path(node: Any) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    """The children of `node` (None included) with their one-entry key paths."""
    return _flatten_with_path_is_leaf(node, lambda x: x is not node)


def is_leaf_treedef(treedef: PyTreeDef) -> bool:
    """True for the treedef of a single leaf (not of a node without children)."""
    return bool(treedef.num_nodes == 1 and treedef.num_leaves == 1)
