"""`nox.at(tree, where)`: read and update the nodes a `where` selects, by key path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ._errors import PathError
from ._jaxapi import KeyPath, flatten_one_level_with_path, keystr, tree_flatten_with_path_none_as_leaf
from ._static import is_module
from ._pytree import class_info
from ._where import DOUBLE_STAR, STAR, Matcher, Where, compile_where, key_component

__all__ = ["at", "At"]

T = TypeVar("T")


def at(tree: T, where: Where) -> At[T]:
    """Address the nodes of `tree` that `where` selects; `.get()`, `.set(v)`, `.apply(fn)`.

    A glob may name a whole subtree (`"encoder"`), which `set` replaces. A glob
    without wildcards that names nothing is a `nox.PathError`.

    Raises `nox.PathError` for a glob without wildcards that names nothing, and
    `nox.GlobError` for a malformed glob.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.at({"w": jnp.ones(2), "b": jnp.zeros(2)}, "['w']").apply(lambda w: 2 * w)["w"]
        Array([2., 2.], dtype=float32)
    """
    return At(tree, where)


class At(Generic[T]):
    """The selection of `nox.at`; updates return new trees, `tree` is unchanged.

    `.get()`, `.set()` and `.apply()` raise `nox.PathError` when nothing exists at a
    wildcard-free glob.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> selection = nox.at({"w": jnp.ones(2), "b": jnp.zeros(2)}, "['b']")
        >>> selection.set(jnp.ones(2))["b"]
        Array([1., 1.], dtype=float32)
    """

    __slots__ = ("_tree", "_pairs", "_treedef", "_nodes")

    def __init__(self, tree: T, where: Where) -> None:
        matcher = compile_where(where)
        self._tree = tree
        self._pairs, self._treedef = tree_flatten_with_path_none_as_leaf(tree)
        self._nodes = _select(self._pairs, matcher)
        if not self._nodes and matcher.kind == "glob" and not any(g in (STAR, DOUBLE_STAR) for g in matcher.glob):
            raise PathError(_missing_path_message(tree, self._pairs, matcher))

    def get(self) -> list[Any]:
        """The selected leaves or subtrees, in flattening order."""
        return [_get(self._tree, path) for path in self._nodes]

    def set(self, value: Any) -> T:
        """A new tree with every selected node replaced by `value`."""
        return self.apply(lambda _: value)

    def apply(self, fn: Callable[[Any], Any]) -> T:
        """A new tree with every selected node `x` replaced by `fn(x)`."""
        index = {path: i for i, (path, _) in enumerate(self._pairs)}
        if all(path in index for path in self._nodes):  # only leaves: one unflatten
            leaves = [leaf for _, leaf in self._pairs]
            for path in self._nodes:
                leaves[index[path]] = fn(leaves[index[path]])
            return self._treedef.unflatten(leaves)  # type: ignore[no-any-return]
        tree = self._tree
        for path in self._nodes:
            tree = _set(tree, path, fn(_get(tree, path)))
        return tree


def _select(pairs: Sequence[tuple[KeyPath, Any]], matcher: Matcher) -> list[KeyPath]:
    """Selected node paths: for globs the shortest matching prefix of each leaf path."""
    if matcher.kind != "glob":
        return [path for path, leaf in pairs if leaf is not None and matcher(path, leaf)]
    nodes = (matcher.nodes([key_component(k) for k in path]) for path, _ in pairs)
    return list(dict.fromkeys(path[: min(lengths)] for (path, _), lengths in zip(pairs, nodes) if lengths))


def _child(node: Any, key: Any) -> tuple[int, list[tuple[KeyPath, Any]], Any]:
    """The index of `key` among `node`'s children (`key` comes from `node`'s own paths)."""
    children, treedef = flatten_one_level_with_path(node)
    want = key_component(key)
    i = next(i for i, (path, _) in enumerate(children) if path and key_component(path[0]) == want)
    return i, children, treedef


def _get(tree: Any, path: KeyPath) -> Any:
    for key in path:
        i, children, _ = _child(tree, key)
        tree = children[i][1]
    return tree


def _set(tree: Any, path: KeyPath, value: Any) -> Any:
    if not path:
        return value
    i, children, treedef = _child(tree, path[0])
    values = [child for _, child in children]
    values[i] = _set(values[i], path[1:], value)
    return treedef.unflatten(values)


def _missing_path_message(tree: Any, pairs: Sequence[tuple[KeyPath, Any]], matcher: Matcher) -> str:
    glob = tuple(matcher.glob)
    paths = [(path, tuple(key_component(k) for k in path)) for path, _ in pairs]
    depth = max((_common(glob, p) for _, p in paths), default=0)
    existing = next((path[:depth] for path, p in paths if _common(glob, p) == depth), ())
    below = {keystr(path[depth : depth + 1]) for path, p in paths if len(p) > depth and p[:depth] == glob[:depth]}
    node = _get(tree, existing)
    kind, name = glob[depth] if depth < len(glob) else ("", None)
    if kind == "." and is_module(node) and name in class_info(node.__class__).names:
        return (
            f"{matcher.where!r} names a static field of {type(node).__qualname__}; statics are "
            f"part of the treedef, not leaves, so nox.at cannot address them. Use "
            f"nox.replace(node, {name}=...) on the {type(node).__qualname__} at {keystr(existing) or 'the root'}."
        )
    return (
        f"{matcher.where!r} names no node of this {type(tree).__qualname__}: the deepest part "
        f"that exists is {keystr(existing) or 'the root'}, whose children are "
        f"{', '.join(sorted(below)) or 'none'}. nox.paths(tree) lists every leaf path."
    )


def _common(glob: Sequence[Any], path: Sequence[Any]) -> int:
    n = 0
    while n < len(glob) and n < len(path) and glob[n] == path[n]:
        n += 1
    return n
