"""`where`: one way to select leaves by key path, used by every filtering function.

A `where` is a glob on the key path (`"layers[*].w"`, `"**.b"`, `"encoder.**"`),
a field tag (`nox.tag("frozen")`), a module class (every leaf inside instances of
it), or a predicate `(path, leaf) -> bool`. A glob names nodes: a leaf is
selected when its path, or a prefix of it, matches.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Sequence
from typing import Any, Union

from jax.tree_util import DictKey, FlattenedIndexKey, GetAttrKey, SequenceKey

from ._errors import ArgumentError, GlobError
from ._jaxapi import KeyPath
from ._module import Module
from ._pytree import FieldKey

__all__ = ["Tag", "tag", "Where", "Matcher", "compile_where", "glob_components", "key_component"]

Component = tuple[str, Any]  # (".", name) or ("[]", index or key)
STAR: Component = ("*", None)
DOUBLE_STAR: Component = ("**", None)


class Tag(Module, name="noxjax.Tag"):
    """Selects the leaves of fields declared with `nox.field(tags=(name, ...))`.

    Examples:
        >>> import noxjax as nox
        >>> nox.tag("decay") == nox.Tag("decay"), nox.Tag("decay").name
        (True, 'decay')
    """

    name: str


def tag(name: str) -> Tag:
    """A `where` selecting every leaf inside a field tagged `name`.

    Raises `nox.ArgumentError` for a name that is not a str.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Dense:
        ...     w: jax.Array = nox.field(tags=("decay",))
        ...     b: jax.Array
        >>> nox.labels(Dense(jnp.ones(2), jnp.ones(2)), {True: nox.tag("decay")}, default=False)
        Dense(w=True, b=False)
    """
    if not isinstance(name, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ArgumentError(f"nox.tag expects a tag name (str), got {name!r}")
    return Tag(name)


Where = Union[str, Tag, type, Callable[[KeyPath, Any], bool]]
Where.__doc__ = """What selects leaves, in every filtering function: a glob on the key path
(`"layers[*].w"`, `"**.b"`, `"['w']"`), `nox.tag(name)`, a module class (every
leaf inside its instances), or a predicate `(path, leaf) -> bool`.

Raises `nox.GlobError` for a malformed glob and `nox.ArgumentError` for any other
kind of value, wherever a `where` is used.

Examples:
    >>> import jax, jax.numpy as jnp, noxjax as nox
    >>> tree = {"layers": [{"w": jnp.ones(2), "b": jnp.zeros(2)}] * 2}
    >>> nox.paths(nox.filter(tree, "['layers'][*]['w']"))
    ["['layers'][0]['w']", "['layers'][1]['w']"]
    >>> len(jax.tree.leaves(nox.filter(tree, lambda path, x: x.sum() > 0)))
    2
"""


def key_component(key: Any) -> Component:
    """A key path entry as a glob component."""
    if isinstance(key, GetAttrKey):
        return (".", key.name)
    if isinstance(key, SequenceKey):
        return ("[]", key.idx)
    if isinstance(key, (DictKey, FlattenedIndexKey)):
        return ("[]", key.key)
    return ("?", key)


_TOKEN = re.compile(
    r"""(?P<dot>\.)?(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<star>\*\*|\*))"""
    r"""|\[(?:(?P<index>-?\d+)|(?P<bstar>\*)|(?P<key>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))\]"""
)


@functools.lru_cache(maxsize=1024)
def glob_components(glob: str) -> tuple[Component, ...]:
    """Parse a glob into components; ValueError (naming the offset) if malformed."""
    out: list[Component] = []
    pos = 0
    while pos < len(glob):
        m = _TOKEN.match(glob, pos)
        if m is None or (pos > 0 and m.group(0)[0] not in ".["):
            raise GlobError(_bad_glob(glob, pos, "expected .name, .*, .**, [index], [*] or ['key']"))
        out.append(_component(m, glob))
        pos = m.end()
    return tuple(out)


def _component(m: re.Match[str], glob: str) -> Component:
    if m.group("name") is not None:
        return (".", m.group("name"))
    if m.group("star") is not None:
        return DOUBLE_STAR if m.group("star") == "**" else STAR
    if m.group("bstar") is not None:
        return STAR
    if m.group("index") is not None:
        index = int(m.group("index"))
        if index < 0:
            raise GlobError(_bad_glob(glob, m.start(), "negative indices are not supported"))
        return ("[]", index)
    return ("[]", ast.literal_eval(m.group("key")))


def _bad_glob(glob: str, pos: int, why: str) -> str:
    return f"malformed glob {glob!r} at offset {pos}: {why}.\n    {glob}\n    {' ' * pos}^"


def _match_positions(glob: Sequence[Component], path: Sequence[Component]) -> set[int]:
    """Path lengths at which the whole glob has matched a prefix of `path`."""
    positions = {0}
    for g in glob:
        if g is DOUBLE_STAR:
            positions = set(range(min(positions), len(path) + 1))
        elif g is STAR:
            positions = {p + 1 for p in positions if p < len(path)}
        else:
            positions = {p + 1 for p in positions if p < len(path) and path[p] == g}
        if not positions:
            break
    return positions


Test = Callable[[KeyPath, Any], bool]


class Matcher:
    """A compiled `where`: `matcher(path, leaf) -> bool`. Only predicates read `leaf`."""

    __slots__ = ("where", "kind", "glob", "test")

    def __init__(self, where: Where) -> None:
        self.where = where
        self.glob: tuple[Component, ...] = ()
        if isinstance(where, str):
            self.kind, self.glob = "glob", glob_components(where)
            self.test = _glob_test(self.glob)
        elif isinstance(where, Tag):
            self.kind, self.test = "tag", _tag_test(where.name)
        elif isinstance(where, type):
            self.kind, self.test = "class", _class_test(where)
        elif callable(where):
            self.kind, self.test = "predicate", where
        else:
            raise ArgumentError(
                f"a where is a glob (str), nox.tag(...), a module class, or a function "
                f"(path, leaf) -> bool; got {where!r}"
            )

    @property
    def needs_leaf(self) -> bool:
        return self.kind == "predicate"

    def __call__(self, path: KeyPath, leaf: Any = None) -> bool:
        return bool(self.test(path, leaf))

    def nodes(self, path: Sequence[Component]) -> set[int]:
        """Prefix lengths of `path` that a glob names."""
        return _match_positions(self.glob, path)


def _glob_test(glob: tuple[Component, ...]) -> Test:
    def test(path: KeyPath, leaf: Any) -> bool:
        return bool(_match_positions(glob, [key_component(k) for k in path]))

    return test


def _tag_test(name: str) -> Test:
    def test(path: KeyPath, leaf: Any) -> bool:
        return any(isinstance(k, FieldKey) and name in k.tags for k in path)

    return test


def _class_test(cls: type) -> Test:
    def test(path: KeyPath, leaf: Any) -> bool:
        return any(isinstance(k, FieldKey) and issubclass(k.owner, cls) for k in path)

    return test


@functools.lru_cache(maxsize=256)
def _compile_hashable(where: Where) -> Matcher:
    return Matcher(where)


def compile_where(where: Where) -> Matcher:
    try:
        return _compile_hashable(where)
    except TypeError:  # an unhashable callable
        return Matcher(where)
