"""`nox.Jit`: `jax.jit` as a module, with static arguments inferred.

Array leaves (and everything inside modules) are traced; every other leaf of the
arguments is static, compared type-strictly. When all argument leaves are traced,
a call goes straight to one shared `jax.jit` whose C++ cache is keyed by the
treedef of `(jit, args, kwargs)`, which already holds every module static and `fn`
itself when it is a plain function. Otherwise the statics are split out and the
compiled function is cached in a bounded global LRU by (treedef, statics). Either
way a `Jit` rebuilt by unflatten, `nox.replace` or `nox.load` does not retrace.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, cast, overload

from typing_extensions import ParamSpec

from ._field import open_field
from ._jaxapi import PyTreeDef, keystr, tree_flatten, tree_flatten_with_path, tree_leaves_stop_at_modules
from ._jaxapi import jit as jax_jit
from ._module import Module
from ._static import CHILD, canonical, fast_kind, is_array
from ._where import Where, compile_where

__all__ = ["Jit", "jit", "set_cache_size"]

P = ParamSpec("P")
R = TypeVar("R")

# Leaf types known to be arrays (jax, numpy, tracers): traced arguments. Module field
# kinds (`fast_kind`) exclude numpy arrays, which fields copy read-only.
_ARRAY_TYPES: set[type] = set()


class _Cache(OrderedDict[Hashable, Any]):
    """The global LRU of compiled functions, keyed by static configuration."""

    size = 4096

    def lookup(self, key: Hashable) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def insert(self, key: Hashable, value: Any) -> None:
        self[key] = value
        while len(self) > self.size:
            self.popitem(last=False)


_CACHE = _Cache()


def set_cache_size(size: int) -> None:
    """Bound the number of compiled functions `nox.Jit` keeps (default 4096)."""
    if size < 1:
        raise ValueError(f"the cache size must be at least 1, got {size}")
    _Cache.size = size
    while len(_CACHE) > size:
        _CACHE.popitem(last=False)


class Jit(Module, Generic[P, R], name="noxjax.Jit"):
    """`fn` compiled with `jax.jit`; its arrays, and those of the arguments, are traced.

    Every non-array leaf of the arguments is static: hashable, compared
    type-strictly, part of the cache key. `donate` is a `where` over the tuple of
    positional arguments (paths start at `[0]`); `in_shardings` and
    `out_shardings` go to `jax.jit`.
    """

    fn: Callable[P, R] = open_field()
    donate: Where | None = open_field(default=None)
    in_shardings: Any = open_field(default=None)
    out_shardings: Any = open_field(default=None)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.donate is None and self.in_shardings is None and _all_traced(args, kwargs):
            # Everything is traced: jax.jit's own C++ cache, keyed by the treedef that
            # holds every static, does the rest with a single flatten.
            plain = _PLAIN if self.out_shardings is None else _plain_jit(self.out_shardings)
            result: R = plain(self, args, kwargs)
            return result
        leaves, treedef = tree_flatten((self, args, kwargs))
        result = _call_slow(self, leaves, treedef, set(map(type, leaves)))
        return result


def _all_traced(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether every leaf of the arguments is an array or inside a module (traced)."""
    if not kwargs:
        for arg in args:
            tp: type = arg.__class__
            if fast_kind(tp) != CHILD and tp not in _ARRAY_TYPES:
                break
        else:
            return True
    types: set[type] = set(map(type, tree_leaves_stop_at_modules((args, kwargs))))
    return all(fast_kind(tp) == CHILD or tp in _ARRAY_TYPES for tp in types)


@functools.lru_cache(maxsize=64)
def _plain_jit(out_shardings: Any) -> Callable[..., Any]:
    options = {} if out_shardings is None else {"out_shardings": out_shardings}
    return jax_jit(_apply_module, **options)


def _apply_module(this: Jit[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return this.fn(*args, **kwargs)


_PLAIN = jax_jit(_apply_module)


def _call_slow(jit: Jit[Any, Any], leaves: list[Any], treedef: PyTreeDef, types: set[type]) -> Any:
    for tp in types - _ARRAY_TYPES:
        if is_array(next(x for x in leaves if type(x) is tp)):
            _ARRAY_TYPES.add(tp)
    statics = tuple((i, x) for i, x in enumerate(leaves) if type(x) not in _ARRAY_TYPES)
    key_statics = tuple((i, _canonical(x, i, treedef, leaves)) for i, x in statics)
    donated = _donated(jit, treedef, leaves) if jit.donate is not None else ()
    simple = not statics and not donated and jit.in_shardings is None
    key: Hashable = treedef if simple else (treedef, key_statics, donated)
    compiled = _CACHE.lookup(key)
    if compiled is None:
        compiled = _compile(jit, treedef, statics, len(leaves), donated, _in_shardings(jit, treedef, leaves, statics, donated))
        _CACHE.insert(key, compiled)
    static_positions = {i for i, _ in statics}
    kept = [x for i, x in enumerate(leaves) if i not in static_positions and i not in donated]
    if donated:
        return compiled([leaves[i] for i in donated], kept)
    return compiled(kept)


def _canonical(x: Any, i: int, treedef: PyTreeDef, leaves: list[Any]) -> object:
    try:
        return canonical(x)
    except TypeError:
        path = keystr(tree_flatten_with_path(treedef.unflatten(leaves))[0][i][0])
        raise TypeError(
            f"nox.Jit: the argument leaf {_argument_name(path)} = {x!r} is not an array, so it is "
            f"static and must be hashable, but {type(x).__name__} is not. Pass it as an array, or "
            f"as a hashable value (a tuple instead of a list, ...)."
        ) from None


def _argument_name(path: str) -> str:
    """`[1][0]['a']` (a path into (jit, args, kwargs)) as `args[0]['a']`."""
    if path.startswith("[1]"):
        return "args" + path[3:]
    if path.startswith("[2]"):
        return "kwargs" + path[3:]
    return "of the function" + path[3:]


_DONATED = _Cache()


def _donated(jit: Jit[Any, Any], treedef: PyTreeDef, leaves: list[Any]) -> tuple[int, ...]:
    """Indices of the array leaves of positional arguments that `donate` selects."""
    cached: tuple[int, ...] | None = _DONATED.lookup(treedef)
    if cached is None:
        assert jit.donate is not None
        matcher = compile_where(jit.donate)
        cached = tuple(
            i
            for i, (path, leaf) in enumerate(tree_flatten_with_path(treedef.unflatten(leaves))[0])
            if len(path) >= 2 and getattr(path[0], "idx", None) == 1 and is_array(leaf) and matcher(path[1:], leaf)
        )
        _DONATED.insert(treedef, cached)
    return cached


def _in_shardings(
    jit: Jit[Any, Any], treedef: PyTreeDef, leaves: list[Any], statics: tuple[tuple[int, Any], ...], donated: tuple[int, ...]
) -> Any:
    if jit.in_shardings is None:
        return None
    _, args, _ = treedef.unflatten(leaves)
    per_leaf = [None] * len(leaves)
    offset = len(tree_flatten(jit)[0])
    for arg, sharding in zip(args, _prefix_tuple(jit.in_shardings, len(args))):
        n = len(tree_flatten(arg)[0])
        per_leaf[offset : offset + n] = [sharding] * n
        offset += n
    static_positions = {i for i, _ in statics}
    kept = [s for i, s in enumerate(per_leaf) if i not in static_positions and i not in donated]
    return ([per_leaf[i] for i in donated], kept) if donated else (kept,)


def _prefix_tuple(shardings: Any, n: int) -> tuple[Any, ...]:
    if isinstance(shardings, (tuple, list)):
        return tuple(cast("tuple[Any, ...]", shardings))
    return (shardings,) * n


def _compile(
    jit: Jit[Any, Any],
    treedef: PyTreeDef,
    statics: tuple[tuple[int, Any], ...],
    n_leaves: int,
    donated: tuple[int, ...],
    in_shardings: Any = None,
) -> Callable[..., Any]:
    static_values = dict(statics)
    donated_set = set(donated)

    def merge(donated_leaves: list[Any], kept_leaves: list[Any]) -> Any:
        d, k = iter(donated_leaves), iter(kept_leaves)
        leaves = [
            static_values[i] if i in static_values else next(d) if i in donated_set else next(k) for i in range(n_leaves)
        ]
        this, args, kwargs = treedef.unflatten(leaves)
        return this.fn(*args, **kwargs)

    options: dict[str, Any] = {}
    if jit.out_shardings is not None:
        options["out_shardings"] = jit.out_shardings
    if in_shardings is not None:
        options["in_shardings"] = in_shardings
    if donated:
        return jax_jit(merge, donate_argnums=0, **options)
    return jax_jit(functools.partial(merge, []), **options)


@overload
def jit(fn: Callable[P, R], /, *, donate: Where | None = None, in_shardings: Any = None, out_shardings: Any = None) -> Jit[P, R]: ...
@overload
def jit(
    *, donate: Where | None = None, in_shardings: Any = None, out_shardings: Any = None
) -> Callable[[Callable[P, R]], Jit[P, R]]: ...
def jit(
    fn: Callable[P, R] | None = None,
    /,
    *,
    donate: Where | None = None,
    in_shardings: Any = None,
    out_shardings: Any = None,
) -> Jit[P, R] | Callable[[Callable[P, R]], Jit[P, R]]:
    """`nox.Jit(fn, ...)`, usable as a decorator with or without options."""

    def build(f: Callable[P, R]) -> Jit[P, R]:
        return Jit(f, donate=donate, in_shardings=in_shardings, out_shardings=out_shardings)

    return build if fn is None else build(fn)
