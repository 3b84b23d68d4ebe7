"""Pytree registration of modules: precomputed flatten, `__init__`-free unflatten.

A constructed module keeps `_nox_flat = (children, aux)` in its `__dict__`, so
flattening is one C-level attribute read. `aux` is a tuple (hashed and compared
by JAX in C) of the field layout and the canonical statics, and it carries the
static values themselves for unflatten.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from jax.tree_util import GetAttrKey

from ._jaxapi import register_pytree_with_keys
from ._static import FLAT, Mixed

__all__ = ["FieldKey", "Layout", "Aux", "ClassInfo", "FLAT", "class_info", "register", "make_flat", "build"]

_new: Callable[[type], Any] = object.__new__


class FieldKey(GetAttrKey):  # type: ignore[misc]  # untyped in jaxlib 0.4
    """Key path entry of a module field: a `GetAttrKey` that also knows the field.

    `keystr` prints it as `.name`; `owner` is the class of the flattened instance.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Linear:
        ...     w: jax.Array = nox.field(tags=("decay",))
        >>> [(path, _)], _ = jax.tree_util.tree_flatten_with_path(Linear(jnp.ones(2)))
        >>> path[0].name, path[0].owner.__name__, path[0].tags, jax.tree_util.keystr(path)
        ('w', 'Linear', ('decay',), '.w')
    """

    __slots__ = ("owner", "static", "tags", "metadata")

    name: str
    owner: type
    static: bool | str | None
    tags: tuple[str, ...]
    metadata: Mapping[str, Any]

    def __init__(
        self,
        name: str,
        owner: type,
        static: bool | str | None = None,
        tags: tuple[str, ...] = (),
        metadata: Mapping[str, Any] = MappingProxyType({}),
    ) -> None:
        super().__init__(name)  # pyright: ignore[reportUnknownMemberType]
        for attr, value in (("owner", owner), ("static", static), ("tags", tags), ("metadata", metadata)):
            object.__setattr__(self, attr, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GetAttrKey):
            return False
        name: str = getattr(other, "name")  # noqa: B009 - GetAttrKey's stubs do not declare it
        return name == self.name

    def __hash__(self) -> int:
        return hash(GetAttrKey(self.name))

    def __repr__(self) -> str:
        return f"FieldKey(name={self.name!r}, owner={self.owner.__qualname__}, tags={self.tags!r})"


class ClassInfo:
    """What noxjax knows about one module class; stored as `cls.__nox_info__`."""

    __slots__ = ("spec", "names", "keys", "may_mix", "custom_init", "kw_only", "auto", "name", "extras")

    def __init__(
        self,
        spec: tuple[tuple[str, bool | str | None], ...],
        keys: dict[str, FieldKey],
        custom_init: bool,
        kw_only: bool,
        auto: bool,
        name: str,
    ) -> None:
        self.spec = spec  # (field name, static override) in field order
        self.names = tuple(name for name, _ in spec)
        self.keys = keys
        self.may_mix = False  # set once an instance holds a Mixed child
        self.custom_init = custom_init
        self.kw_only = kw_only
        self.auto = auto  # made a module by inheritance, not by a decorator
        self.name = name  # registry name, used by files
        # Instance attributes derived from the fields that unflatten must restore too
        # (a transform's `__module__` and `__qualname__`, taken from the function).
        self.extras: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def class_info(cls: type) -> ClassInfo:
    """The ClassInfo of a module class (KeyError for other classes)."""
    info: ClassInfo = cls.__dict__["__nox_info__"]
    return info


class Layout:
    """Which fields of a class are children; one shared instance per partition.

    Compared by identity: `make_flat` returns the same object for the same partition.
    """

    __slots__ = ("cls", "names", "keys", "mixed")

    def __init__(self, cls: type, names: tuple[str, ...], keys: tuple[FieldKey, ...], mixed: tuple[int, ...]):
        self.cls = cls
        self.names = names
        self.keys = keys
        self.mixed = mixed

    def __repr__(self) -> str:
        return f"{self.cls.__qualname__}{list(self.names)}"


class Aux(tuple[Any, ...]):
    """(layout, canonical statics), compared and hashed by JAX in C.

    `.parts` is what unflatten needs, in one tuple: (class, child field names,
    static field values by name, indices of Mixed children).
    """

    parts: tuple[type, tuple[str, ...], dict[str, Any], tuple[int, ...]]

    @property
    def statics(self) -> dict[str, Any]:
        return self.parts[2]


# One Layout per (class, partition), kept here rather than on the class so that a copy
# of the class's ClassInfo (cloudpickle restoring a class by value) shares them.
_LAYOUTS: dict[tuple[type, tuple[str, ...], tuple[int, ...]], Layout] = {}


def make_flat(
    cls: type, names: tuple[str, ...], children: tuple[Any, ...], statics: dict[str, Any], canon: tuple[Any, ...]
) -> tuple[tuple[Any, ...], Aux]:
    info = class_info(cls)
    mixed = tuple(i for i, c in enumerate(children) if type(c) is Mixed) if info.may_mix else ()
    layout = _LAYOUTS.get((cls, names, mixed))
    if layout is None:
        layout = _LAYOUTS[cls, names, mixed] = Layout(cls, names, tuple(info.keys[n] for n in names), mixed)
    aux = Aux((layout, canon))
    aux.parts = (cls, names, statics, layout.mixed)
    return children, aux


def _flatten_with_keys(m: Any) -> tuple[Iterable[tuple[Any, Any]], Aux]:
    children, aux = getattr(m, FLAT)
    return tuple(zip(aux[0].keys, children)), aux


def build(aux: Aux, children: tuple[Any, ...]) -> Any:
    """The module that `aux` and `children` describe, without `__init__` (JAX's unflatten)."""
    cls, names, statics, mixed = aux.parts
    obj: Any = _new(cls)
    d: dict[str, Any] = obj.__dict__
    d.update(statics)
    # Unrolled for the common arities: zip() + update() doubles the cost of this hot path.
    n = len(names)
    if n == 2:
        d[names[0]] = children[0]
        d[names[1]] = children[1]
    elif n == 1:
        d[names[0]] = children[0]
    else:
        d.update(zip(names, children))
    if mixed:
        _rebuild_mixed(d, names, mixed, children)
    d[FLAT] = (children, aux)
    return obj


def _rebuild_mixed(d: dict[str, Any], names: tuple[str, ...], mixed: tuple[int, ...], children: tuple[Any, ...]) -> None:
    for i in mixed:
        child = children[i]
        d[names[i]] = child.value() if type(child) is Mixed else child


_flatten = operator.attrgetter(FLAT)


def register(cls: type) -> None:
    register_pytree_with_keys(cls, _flatten_with_keys, build, _flatten)
