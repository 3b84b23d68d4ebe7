"""`nox.Jit`: `jax.jit` as a module, with static arguments inferred.

Which argument leaves are traced is `_static.traced_mask`'s answer: arrays, and
everything inside modules. When all argument leaves are traced, a call goes
straight to one shared `jax.jit` whose C++ cache is keyed by the treedef of
`(jit, args, kwargs)`, which already holds every module static and `fn` itself
when it is a plain function. Otherwise the statics are split out and the compiled
function is cached in a bounded global LRU by (treedef, statics). Either way a
`Jit` rebuilt by unflatten, `nox.replace` or `nox.load` does not retrace.
"""

from __future__ import annotations

import functools
from types import FunctionType
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, cast, overload

from jax.sharding import Sharding
from typing_extensions import ParamSpec

from ._errors import ArgumentError
from ._field import identity_field, open_field
from ._jaxapi import PyTreeDef, keystr, tree_flatten, tree_flatten_is_leaf, tree_flatten_with_path, tree_leaves
from ._jaxapi import jit as jax_jit
from ._lru import LRU
from ._static import all_traced, canonical, traced_mask
from ._where import Where, compile_where
from ._wrapper import Wrapper

__all__ = ["Jit", "jit", "set_cache_size"]

P = ParamSpec("P")
R = TypeVar("R")

_CACHE: LRU[Callable[..., Any]] = LRU(4096)  # compiled functions, by static configuration
_DONATED: LRU[tuple[int, ...]] = LRU(1024)  # donated leaf indices, by treedef and where


def set_cache_size(size: int) -> None:
    """Bound the number of compiled functions `nox.Jit` keeps (default 4096).

    Raises `nox.ArgumentError` (a `ValueError`) if `size` is not an int of at least 1.

    Examples:
        >>> import noxjax as nox
        >>> nox.set_cache_size(1024)
    """
    _CACHE.resize(size)


class Jit(Wrapper, Generic[P, R], name="noxjax.Jit"):
    """`fn` compiled with `jax.jit`; its arrays, and those of the arguments, are traced.

    Every non-array leaf of the arguments outside modules is static: hashable,
    compared type-strictly, part of the cache key. `donate` is a `where` over the
    tuple of positional arguments (paths start at `[0]`); `in_shardings` and
    `out_shardings` go to `jax.jit` as it takes them (a sharding per positional
    argument, or a tree of them per argument) and are held by identity.

    Raises `nox.ArgumentError` when called with a static argument that is not
    hashable, naming it, or with `in_shardings` that do not match the positional
    arguments.

    Examples:
        >>> import jax.numpy as jnp
        >>> import noxjax as nox
        >>> double = nox.Jit(lambda x, times: x * times)
        >>> double(jnp.ones(2), 2)          # `times` is static: no static_argnums needed
        Array([2., 2.], dtype=float32)
    """

    fn: Callable[P, R] = open_field()
    donate: Where | None = open_field(default=None)
    in_shardings: Any = identity_field(default=None)
    out_shardings: Any = identity_field(default=None)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        plain: Callable[..., R] | bool | None = vars(self).get(_PLAIN_CALL)
        if plain is None:
            plain = _plain_call(self)
        if plain is not False and all_traced(args, kwargs):
            # Everything is traced: jax.jit's own C++ cache, keyed by the treedef that
            # holds every static, does the rest with a single flatten.
            if plain is True:
                result: R = _PLAIN(self, args, kwargs)
                return result
            return plain(*args, **kwargs)
        result = _call_slow(self, args, kwargs)
        return result


_PLAIN_CALL = "_nox_plain"  # where a Jit caches what `_plain_call` returns
_BY_FUNCTION: LRU[Callable[..., Any]] = LRU(4096)  # `jax.jit(fn)`, shared by every Jit of `fn`


def _plain_call(jit: Jit[Any, Any]) -> Callable[..., Any] | bool:
    """How `jit` runs when every argument leaf is traced: False if it has options (the
    slow path), `jax.jit(fn)` if `fn` is a plain function (shared by every Jit of `fn`,
    so a Jit rebuilt by unflatten or `nox.load` does not retrace), else True (`_PLAIN`,
    which traces the arrays `fn` holds)."""
    plain: Callable[..., Any] | bool = True
    if jit.donate is not None or jit.in_shardings is not None or jit.out_shardings is not None:
        plain = False
    elif type(jit.fn) is FunctionType:
        plain = _BY_FUNCTION.get(jit.fn) or _BY_FUNCTION.put(jit.fn, jax_jit(jit.fn))
    vars(jit)[_PLAIN_CALL] = plain
    return plain


def _apply_module(this: Jit[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return this.fn(*args, **kwargs)


_PLAIN = jax_jit(_apply_module)


def _call_slow(jit: Jit[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    whole = (jit, args, kwargs)
    leaves, treedef = tree_flatten(whole)
    traced = traced_mask(whole, leaves, treedef)
    static_at = tuple(i for i, t in enumerate(traced) if not t)
    key_statics = tuple(_canonical(leaves[i], i, whole) for i in static_at)
    donated = _donated(jit, whole, treedef, traced) if jit.donate is not None else ()
    key: Hashable = (treedef, static_at, key_statics, donated)
    compiled = _CACHE.get(key)
    if compiled is None:
        shardings = _in_shardings(jit, args, len(leaves), static_at, donated)
        compiled = _CACHE.put(key, _compile(jit, treedef, {i: leaves[i] for i in static_at}, len(leaves), donated, shardings))
    skipped = set(static_at).union(donated)
    kept = [x for i, x in enumerate(leaves) if i not in skipped]
    if donated:
        return compiled([leaves[i] for i in donated], kept)
    return compiled(kept)


def _canonical(x: Any, i: int, whole: Any) -> object:
    try:
        return canonical(x)
    except TypeError:
        path = keystr(tree_flatten_with_path(whole)[0][i][0])
        raise ArgumentError(
            f"nox.Jit: the {_leaf_name(path)} = {x!r} is not an array, so it is static and must be "
            f"hashable, but {type(x).__name__} is not. Pass it as an array, or as a hashable value "
            f"(a tuple instead of a list, ...)."
        ) from None


def _leaf_name(path: str) -> str:
    """`[1][0]['a']`, a path into `(jit, args, kwargs)`, as `argument leaf args[0]['a']`
    (the Jit's own leaves are inside a module, so never static)."""
    return ("argument leaf args" if path.startswith("[1]") else "argument leaf kwargs") + path[3:]


def _donated(jit: Jit[Any, Any], whole: Any, treedef: PyTreeDef, traced: tuple[bool, ...]) -> tuple[int, ...]:
    """Indices of the traced leaves of positional arguments that `donate` selects."""
    key = (treedef, traced, jit.donate)
    cached = _DONATED.get(key)
    if cached is None:
        assert jit.donate is not None
        matcher = compile_where(jit.donate)
        cached = _DONATED.put(key, tuple(
            i
            for i, (path, leaf) in enumerate(tree_flatten_with_path(whole)[0])
            if traced[i] and len(path) >= 2 and getattr(path[0], "idx", None) == 1 and matcher(path[1:], leaf)
        ))
    return cached


def _is_sharding_leaf(x: object) -> bool:
    return x is None or isinstance(x, Sharding)


def _in_shardings(
    jit: Jit[Any, Any], args: tuple[Any, ...], n_leaves: int, static_at: tuple[int, ...], donated: tuple[int, ...]
) -> Any:
    """Per traced leaf, the sharding `in_shardings` gives it (broadcast as jax.jit does)."""
    if jit.in_shardings is None:
        return None
    per_arg = jit.in_shardings
    if not isinstance(per_arg, (tuple, list)):
        per_arg = (per_arg,) * len(args)
    per_arg = tuple(cast("tuple[Any, ...]", per_arg))
    if len(per_arg) != len(args):
        raise ArgumentError(
            f"nox.Jit: in_shardings has {len(per_arg)} entries for {len(args)} positional arguments; "
            f"give one sharding (or tree of shardings) per positional argument"
        )
    per_leaf: list[Any] = [None] * len(tree_leaves(jit))
    for i, (arg, shardings) in enumerate(zip(args, per_arg)):
        per_leaf += _broadcast(shardings, arg, i)
    per_leaf += [None] * (n_leaves - len(per_leaf))  # keyword arguments
    skipped = set(static_at).union(donated)
    kept = [s for i, s in enumerate(per_leaf) if i not in skipped]
    return ([per_leaf[i] for i in donated], kept) if donated else (kept,)


def _broadcast(prefix: Any, tree: Any, position: int) -> list[Any]:
    """One entry of `prefix` (a tree of shardings) per leaf of `tree`."""
    shardings, prefix_def = tree_flatten_is_leaf(prefix, _is_sharding_leaf)
    try:
        subtrees = prefix_def.flatten_up_to(tree)
    except ValueError as e:
        raise ArgumentError(
            f"nox.Jit: in_shardings[{position}] is not a prefix of args[{position}]'s structure: {e}"
        ) from None
    out: list[Any] = []
    for sharding, subtree in zip(shardings, subtrees):
        out += [sharding] * len(tree_leaves(subtree))
    return out


def _compile(
    jit: Jit[Any, Any],
    treedef: PyTreeDef,
    static_values: dict[int, Any],
    n_leaves: int,
    donated: tuple[int, ...],
    in_shardings: Any,
) -> Callable[..., Any]:
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
    """`nox.Jit(fn, ...)`, usable as a decorator with or without options, on functions
    and on methods (`@nox.jit def __call__(self, x)` traces `self`'s arrays).

    Raises as `nox.Jit` does.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> import noxjax as nox
        >>> class Scale(nox.Module):
        ...     w: jax.Array
        ...     @nox.jit
        ...     def __call__(self, x):
        ...         return self.w * x
        >>> Scale(jnp.ones(2) * 3)(jnp.ones(2))
        Array([3., 3.], dtype=float32)
    """

    def build(f: Callable[P, R]) -> Jit[P, R]:
        return Jit(f, donate=donate, in_shardings=in_shardings, out_shardings=out_shardings)

    return build if fn is None else build(fn)
