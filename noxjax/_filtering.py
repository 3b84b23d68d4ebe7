"""Filtering by key path: `paths`, `partition`, `combine`, `filter`, `map_where`,
`labels` and `labeler`.

Leaf paths and selection masks depend only on the treedef, so they are computed
once per treedef (and `where`) and cached; a call then costs a plain flatten and
unflatten. Predicates see leaf values, so they run on every call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._errors import ArgumentError, LabelError, StructureError
from ._jaxapi import KeyPath, PyTreeDef, keystr, tree_flatten, tree_flatten_none_as_leaf, tree_flatten_with_path
from ._lru import LRU
from ._where import Where, compile_where

__all__ = ["paths", "partition", "combine", "filter", "map_where", "labels", "labeler", "leaf_paths"]

T = TypeVar("T")
L = TypeVar("L")
_MISSING: Any = object()


_PATHS: LRU[tuple[KeyPath, ...]] = LRU(1024)
_MASKS: LRU[tuple[bool, ...]] = LRU(1024)
_NONE_SLOTS: LRU[tuple[PyTreeDef, tuple[int, ...]]] = LRU(1024)


def leaf_paths(tree: Any, treedef: PyTreeDef) -> tuple[KeyPath, ...]:
    """Key paths of the leaves of `tree` (whose treedef is given), cached."""
    cached = _PATHS.get(treedef)
    if cached is None:
        cached = _PATHS.put(treedef, tuple(p for p, _ in tree_flatten_with_path(tree)[0]))
    return cached


def _mask(tree: Any, leaves: list[Any], treedef: PyTreeDef, where: Where) -> tuple[bool, ...]:
    matcher = compile_where(where)
    if matcher.needs_leaf:
        return tuple(map(matcher, leaf_paths(tree, treedef), leaves))
    key = (treedef, where)
    cached = _MASKS.get(key)
    if cached is None:
        cached = _MASKS.put(key, tuple(map(matcher, leaf_paths(tree, treedef))))
    return cached


def paths(tree: Any) -> list[str]:
    """The key paths of the leaves of `tree`, as `keystr` prints them.

    Raises only what flattening `tree` raises.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.paths({"w": jnp.ones(2), "layers": [jnp.ones(1)]})
        ["['layers'][0]", "['w']"]
    """
    _, treedef = tree_flatten(tree)
    return [keystr(p) for p in leaf_paths(tree, treedef)]


def partition(tree: T, where: Where) -> tuple[T, T]:
    """(selected, rest): two trees of `tree`'s structure, `None` where a leaf is not theirs.

    Raises as `nox.filter` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> selected, rest = nox.partition({"w": jnp.ones(2), "b": jnp.zeros(2)}, "['w']")
        >>> selected["b"] is None, rest["w"] is None
        (True, True)
    """
    leaves, treedef = tree_flatten(tree)
    mask = _mask(tree, leaves, treedef, where)
    selected = [x if m else None for x, m in zip(leaves, mask)]
    rest = [None if m else x for x, m in zip(leaves, mask)]
    return treedef.unflatten(selected), treedef.unflatten(rest)


def filter(tree: T, where: Where) -> T:  # noqa: A001 - the name users know from equinox
    """`tree` with every leaf that `where` does not select replaced by `None`.

    Raises `nox.GlobError` for a malformed glob, `nox.ArgumentError` for a `where`
    of another kind.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.filter({"w": jnp.ones(2), "b": jnp.zeros(2)}, "['w']")["b"] is None
        True
    """
    return partition(tree, where)[0]


def _none_slots(tree: Any, treedef: PyTreeDef) -> tuple[PyTreeDef, tuple[int, ...]]:
    """The treedef with `None` as a leaf, and where the real leaves sit in it."""
    cached = _NONE_SLOTS.get(treedef)
    if cached is None:
        with_none, full_def = tree_flatten_none_as_leaf(tree)
        slots = tuple(i for i, x in enumerate(with_none) if x is not None)
        cached = _NONE_SLOTS.put(treedef, (full_def, slots))
    return cached


def combine(*trees: T) -> T:
    """Merge trees of one structure: each leaf is the first non-`None` one among them.

    Raises `nox.StructureError` for trees of different structures (ignoring `None`).

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> params = {"w": jnp.ones(2), "b": jnp.zeros(2)}
        >>> frozen, trainable = nox.partition(params, "['w']")
        >>> nox.combine(frozen, trainable) == params
        True
    """
    if not trees:
        raise ArgumentError("nox.combine needs at least one tree")
    full_def: PyTreeDef = None
    out: list[Any] = []
    for i, tree in enumerate(trees):
        leaves, treedef = tree_flatten(tree)
        this_def, slots = _none_slots(tree, treedef)
        if full_def is None:
            full_def, out = this_def, [None] * this_def.num_leaves
        elif this_def != full_def:
            raise StructureError(
                f"nox.combine: tree {i} has another structure than tree 0 "
                f"(ignoring None leaves):\n  {full_def}\n  {this_def}"
            )
        for slot, leaf in zip(slots, leaves):
            if out[slot] is None:
                out[slot] = leaf
    return full_def.unflatten(out)  # type: ignore[no-any-return]


def map_where(tree: T, where: Where, fn: Callable[[Any], Any]) -> T:
    """`tree` with `fn` applied to the leaves `where` selects; the rest unchanged.

    Raises as `nox.filter` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.map_where({"w": jnp.ones(2), "b": jnp.ones(2)}, "['w']", lambda x: 0 * x)["w"]
        Array([0., 0.], dtype=float32)
    """
    leaves, treedef = tree_flatten(tree)
    mask = _mask(tree, leaves, treedef, where)
    return treedef.unflatten([fn(x) if m else x for x, m in zip(leaves, mask)])  # type: ignore[no-any-return]


def labels(tree: Any, rules: Mapping[L, Where], *, default: L = _MISSING) -> Any:
    """A tree of `tree`'s structure holding, per leaf, the label of the first matching rule.

    Without `default`, a leaf that no rule matches is a `nox.LabelError` naming its path.

    Raises `nox.LabelError` as above, and `nox.GlobError`/`nox.ArgumentError` for a
    bad `where`.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.labels({"w": jnp.ones(2), "b": jnp.zeros(2)}, {"decay": "['w']"}, default="none")
        {'b': 'none', 'w': 'decay'}
    """
    leaves, treedef = tree_flatten(tree)
    masks = [(label, _mask(tree, leaves, treedef, where)) for label, where in rules.items()]
    out: list[Any] = []
    for i in range(len(leaves)):
        label = next((label for label, mask in masks if mask[i]), default)
        if label is _MISSING:
            path = keystr(leaf_paths(tree, treedef)[i])
            raise LabelError(
                f"the leaf at {path or '<root>'} matches none of the rules "
                f"{list(rules)!r}; add a rule that selects it, or pass default=..."
            )
        out.append(label)
    return treedef.unflatten(out)


def labeler(rules: Mapping[L, Where], *, default: L = _MISSING) -> Callable[[Any], Any]:
    """The function `params -> nox.labels(params, rules, default=...)`.

    Pass it to `optax.multi_transform` or `optax.masked`: they call a callable labels
    argument, and a module with `__call__` is callable, so pass this, not a labels tree.

    The returned function raises as `nox.labels` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox, optax
        >>> label = nox.labeler({"decay": "['w']"}, default="none")
        >>> label({"w": jnp.ones(2), "b": jnp.zeros(2)})
        {'b': 'none', 'w': 'decay'}
        >>> optimizer = optax.multi_transform({"decay": optax.adamw(1e-3), "none": optax.adam(1e-3)}, label)
    """

    def label_params(params: Any) -> Any:
        return labels(params, rules, default=default)

    return label_params
