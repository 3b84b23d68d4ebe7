"""The one authority on what a value is: module, array, traced or static.

Construction, `BoundMethod`, the transforms, filtering, equality, printing and the
checkpoint encoder ask these questions here and nowhere else.

Invariants:
- A *module class* is a class whose own `__dict__` holds `__nox_info__`; a module
  is an instance of one, and it is *built* once its `__init__` has returned (its
  `__dict__` holds `FLAT`). A module is never an array, whatever its fields are named.
- An *array* is decided by type alone: `jax.Array` (tracers included), `np.ndarray`,
  `np.generic`, `jax.ShapeDtypeStruct` and their subclasses. Each type's answer is
  learned once, so the hot paths do one dict lookup.
- A *field value* is classified once, at construction (`classify`): CHILD (an
  array, a module, None, or a container or registered pytree whose leaves are all
  children), STATIC (JSON-like data, dtypes, registered functions, and containers
  or registered pytrees of those; inside a registered pytree an unregistered
  callable is static by identity), or MIXED (a container or registered pytree
  holding both, stored as a `Mixed` node whose children are the child parts).
- `None` is JAX's empty subtree wherever it appears, never a static: a module
  built with `None` in a field, and one that `tree.map` or `partition` left `None`
  there, have one structure (so partition halves save, load and combine).
- An *argument leaf* of a transform is traced if it is an array or lies inside a
  module (`traced_mask`); every other leaf is static, in its canonical form.
- Canonical forms are hashable and compare type-strictly, with NaN equal to NaN,
  so jit caches neither merge `1` with `1.0` nor miss on a NaN hyperparameter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import FieldError
from ._frozendict import FrozenDict, sorted_keys
from ._jaxapi import (
    DictKey,
    PyTreeDef,
    SequenceKey,
    Tracer,
    flatten_one_level_with_path,
    is_leaf_treedef,
    keystr,
    register_pytree_with_keys,
    tree_flatten,
    tree_leaves,
    tree_leaves_stop_at,
)
from ._lru import LRU
from ._registry import function_name

__all__ = [
    "STATIC",
    "CHILD",
    "MIXED",
    "OPEN",
    "IDENTITY",
    "FLAT",
    "Mixed",
    "classify",
    "canonical",
    "is_array",
    "is_inexact_array",
    "is_module",
    "is_module_class",
    "learn_module_class",
    "fast_kind",
    "check_built",
    "traced_mask",
    "all_traced",
    "split_static",
]

T = TypeVar("T")

STATIC: Final = 0
CHILD: Final = 1
MIXED: Final = 2
MODULE: Final = 3  # a CHILD that must be checked to be built

OPEN: Final = "open"  # a `static` setting for transform options: the rule, else any hashable
IDENTITY: Final = "identity"  # a `static` setting: held by identity, never hashed or compared
FLAT: Final = "_nox_flat"  # the key of `(children, aux)` in a built module's __dict__

_FLOAT, _BOOL, _COMPLEX, _DTYPE, _TYPE, _DICT, _ANY, _NAN, _NODE, _PARTIAL = (object() for _ in range(10))
_JSON_SCALARS = (bool, int, float, complex, str)
_ARRAY_BASES: tuple[type, ...] = (jax.Array, Tracer, np.ndarray, np.generic, jax.ShapeDtypeStruct)

# What is known of a type without looking at the value. int and str are their own
# canonical form, None is an empty child; array types and module classes are added as
# they are learned.
_KIND: dict[type, int] = {int: STATIC, str: STATIC, type(None): CHILD}
_IS_ARRAY_TYPE: dict[type, bool] = {}
_IS_INEXACT: dict[Any, bool] = {}

MSG_BAD_VALUE = """{where} = {value!r} cannot be a field value.
A field holds arrays, modules, or JSON-like data (None, bool, int, float, complex,
str, dtypes, and tuples/lists/dicts of these with str or int keys). To keep a
function, register it so that a saved model can name it:

    nox.register_function(my_fn, "mypkg.my_fn")

or wrap the behaviour in a module with a `__call__` method. To keep any other
hashable value as a static anyway (it cannot be saved), declare the field with
`nox.field(static=True)`.
"""

MSG_SELF_CONTAINING = """{where} holds {what} of a module that is still being built, so the
module would contain itself. Store the function, not the bound method, and call it
with the instance:

    self.f = self.g                  # wrong: a method bound to the half-built self
    def __call__(self, x):
        return self.g(x)             # right: look the method up when it is used
"""


# --------------------------------------------------------------------- modules and arrays


def is_module_class(cls: type) -> bool:
    """True for classes made modules by `@nox.module` or `nox.Module`."""
    return "__nox_info__" in cls.__dict__


def is_module(x: object) -> bool:
    """True for instances of any noxjax module class.

    Never raises.

    Examples:
        >>> import noxjax as nox
        >>> nox.is_module(nox.Sequential([])), nox.is_module(3)
        (True, False)
    """
    return "__nox_info__" in type(x).__dict__


def learn_module_class(cls: type) -> None:
    _KIND[cls] = MODULE


def _is_array_type(tp: type) -> bool:
    known = _IS_ARRAY_TYPE.get(tp)
    if known is None:
        known = _IS_ARRAY_TYPE[tp] = issubclass(tp, _ARRAY_BASES) and not is_module_class(tp)
        if known and not issubclass(tp, np.ndarray):  # ndarrays are copied read-only first
            _KIND[tp] = CHILD
    return known


def is_array(x: object) -> bool:
    """True for arrays: `jax.Array` and tracers, `np.ndarray`, numpy scalars, and
    `jax.ShapeDtypeStruct`. Decided by type, so a module is never an array.

    Never raises.

    Examples:
        >>> import jax.numpy as jnp, numpy as np
        >>> import noxjax as nox
        >>> nox.is_array(jnp.ones(2)), nox.is_array(np.float32(1)), nox.is_array(1.0)
        (True, True, False)
    """
    known = _IS_ARRAY_TYPE.get(type(x))
    return _is_array_type(type(x)) if known is None else known


def is_inexact_array(x: object) -> bool:
    """True for arrays of a floating or complex dtype (bfloat16 and float8 included).

    Never raises.

    Examples:
        >>> import jax.numpy as jnp
        >>> import noxjax as nox
        >>> nox.is_inexact_array(jnp.ones(2)), nox.is_inexact_array(jnp.arange(2))
        (True, False)
    """
    if not is_array(x):
        return False
    dtype = cast(Any, x).dtype
    known = _IS_INEXACT.get(dtype)
    if known is None:
        known = _IS_INEXACT[dtype] = bool(jnp.issubdtype(dtype, jnp.inexact))
    return known


def fast_kind(tp: type) -> int | None:
    """The kind of every value of type `tp`, if the type alone decides it."""
    return _KIND.get(tp)


def check_built(value: Any, where: str) -> None:
    """A module value must be built, and so must the modules it directly holds
    (a `BoundMethod` made during `__init__` holds the half-built instance)."""
    d = value.__dict__
    if FLAT not in d:
        raise FieldError(MSG_SELF_CONTAINING.format(where=where, what="an instance"))
    for child in d[FLAT][0]:
        if is_module(child) and FLAT not in child.__dict__:
            raise FieldError(MSG_SELF_CONTAINING.format(where=where, what=f"a {type(value).__name__}"))


# --------------------------------------------------------------------- field values


def _is_scalar_type(value: object) -> bool:
    if not isinstance(value, type):
        return False
    return (
        value in (bool, int, float, complex)
        or isinstance(getattr(value, "dtype", None), np.dtype)
        or issubclass(value, np.generic)
    )


def _freeze_array(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.flags.writeable:
        frozen: np.ndarray[Any, Any] = np.array(value, copy=True)  # pyright: ignore[reportUnknownArgumentType]
        frozen.flags.writeable = False
        return frozen
    return cast(Any, value)


def _canon_float(x: float) -> object:
    return (_FLOAT, x if x == x else _NAN)


def _canon_scalar(value: Any) -> object:
    tp: type[Any] = value.__class__
    if tp is float:
        return _canon_float(value)
    if tp is bool:
        return (_BOOL, value)
    if tp is complex:
        return (_COMPLEX, _canon_float(value.real), _canon_float(value.imag))
    return value  # int, str


class _Identity:
    """A canonical form that compares by identity and never hashes the value."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is _Identity and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def classify(value: Any, static: bool | str | None, where: str) -> tuple[int, Any, object]:
    """(kind, stored value, canonical form) of a field value; raises FieldError.

    `static` is the field's setting: None applies the rule, True keeps any hashable
    value, False makes the value a child, OPEN tries the rule and then any
    hashable, IDENTITY keeps the value by identity.
    """
    if static is None:
        return _infer(value, where)
    if static == IDENTITY:
        return STATIC, value, _Identity(value)
    if static == OPEN:
        try:
            return _infer(value, where)
        except FieldError:
            return _hashable(value, where, "is kept as a static", "pass a function, a module, or another hashable value")
    if not static:
        return CHILD, _freeze_children(value), None
    return _static_any(value, where)


def _static_any(value: Any, where: str) -> tuple[int, Any, object]:
    try:
        kind, stored, canon = _infer(value, where)
    except FieldError:
        kind, stored, canon = None, value, None
    if kind == STATIC:
        return STATIC, stored, canon
    if any(map(is_array, tree_leaves(value))):
        raise FieldError(
            f"{where} is declared static=True but holds an array; arrays are always "
            f"traced. Remove static=True, or store a hashable description instead."
        )
    return _hashable(value, where, "is declared static=True", "use a tuple instead of a list, or drop static=True")


def _hashable(value: Any, where: str, why: str, advice: str) -> tuple[int, Any, object]:
    """Any hashable value as a static, compared with its exact type."""
    try:
        hash(value)
    except TypeError as e:
        raise FieldError(
            f"{where} {why}, so its value must be hashable, but {type(value).__name__} is not ({e}); {advice}."
        ) from None
    tp: type[Any] = value.__class__
    return STATIC, value, (_ANY, tp, value)


def canonical(value: Any) -> object:
    """The canonical form of a static argument leaf; a FieldError if it is unhashable."""
    return _static_any(value, "a static argument")[2]


def _freeze_children(value: Any) -> Any:
    tp: type[Any] = value.__class__
    if tp is list or tp is tuple:
        return tuple(_freeze_children(v) for v in value)
    if tp is dict:
        return FrozenDict({k: _freeze_children(v) for k, v in value.items()})
    return _freeze_array(value)


def _infer(value: Any, where: str) -> tuple[int, Any, object]:
    tp: type[Any] = value.__class__
    kind = _KIND.get(tp)
    if kind is not None:
        if kind == MODULE:
            check_built(value, where)
            return CHILD, value, None
        if kind == CHILD:  # None: JAX's empty subtree, in every field and container
            return CHILD, value, None
        return kind, value, value
    if tp in _JSON_SCALARS:
        return STATIC, value, _canon_scalar(value)
    if tp is tuple or tp is list:
        return _infer_items(tuple, tuple(range(len(value))), list(value), where)
    if tp is dict or tp is FrozenDict:
        keys = sorted_keys(value)
        for k in keys:
            if type(k) is not str and type(k) is not int:
                raise FieldError(f"{where} has dict key {k!r}; dict keys must be str or int.")
        return _infer_items(FrozenDict, keys, [value[k] for k in keys], where)
    if isinstance(value, np.dtype):
        dtype: np.dtype[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return STATIC, dtype, (_DTYPE, dtype)
    if _is_scalar_type(value) or (isinstance(value, type) and is_module_class(value)):
        return STATIC, value, (_TYPE, value)  # dtypes' scalar types, module classes
    if _is_array_type(tp):
        return CHILD, _freeze_array(value), None
    if function_name(value) is not None:
        return STATIC, value, value
    if tp is functools.partial:
        return _infer_partial(cast("functools.partial[Any]", value), where)
    node = _infer_node(value, where)
    if node is None:
        raise FieldError(MSG_BAD_VALUE.format(where=where, value=value))
    return node


def _infer_node(value: Any, where: str) -> tuple[int, Any, object] | None:
    """A registered pytree that is not a module: classified child by child."""
    pairs, node_def = flatten_one_level_with_path(value)
    if is_leaf_treedef(node_def):
        return None
    keys = tuple(path[0] for path, _ in pairs)
    children = [child for _, child in pairs]
    results = [_infer_node_child(c, f"{where}{keystr((k,))}") for k, c in zip(keys, children)]
    kind, stored, canon = _combine(node_def, keys, results)
    if kind == CHILD and any(r[1] is not c for r, c in zip(results, children)):
        stored = node_def.unflatten([r[1] for r in results])  # read-only copies of numpy arrays
    elif kind != MIXED:
        stored = value
    return kind, stored, canon


def _infer_partial(value: functools.partial[Any], where: str) -> tuple[int, Any, object]:
    """`functools.partial(registered_fn, *json, **json)`: static, saved by parts."""
    parts = (
        _infer(value.func, f"{where}.func"),
        _infer(tuple(value.args), f"{where}.args"),
        _infer(dict(value.keywords), f"{where}.keywords"),
    )
    if any(kind != STATIC for kind, _, _ in parts):
        raise FieldError(
            f"{where} is a functools.partial holding arrays or modules; a partial field is "
            f"static. Use jax.tree_util.Partial, whose arguments are traced, or a module."
        )
    return STATIC, value, (_PARTIAL, *(canon for _, _, canon in parts))


def _infer_node_child(value: Any, where: str) -> tuple[int, Any, object]:
    try:
        return _infer(value, where)
    except FieldError:
        if not callable(value):
            raise
        return STATIC, value, _Identity(value)  # Equinox's activations


def _infer_items(container: Any, keys: tuple[Any, ...], values: list[Any], where: str) -> tuple[int, Any, object]:
    results = [_infer(v, f"{where}[{k!r}]") for k, v in zip(keys, values)]
    return _combine(container, keys, results)


def _combine(container: Any, keys: tuple[Any, ...], results: list[tuple[int, Any, object]]) -> tuple[int, Any, object]:
    """The kind of a container from its elements' kinds; the stored value is rebuilt."""
    kinds = {r[0] for r in results}
    stored = [r[1] for r in results]
    if kinds <= {STATIC}:
        canons = tuple(r[2] for r in results)
        if container is FrozenDict:
            return STATIC, _rebuild(container, keys, stored), (_DICT, keys, canons)
        if container is tuple:
            return STATIC, tuple(stored), canons
        return STATIC, None, (_NODE, container, canons)
    if kinds == {CHILD}:
        return CHILD, _rebuild(container, keys, stored), None
    return MIXED, Mixed.split(container, keys, results), None


def _rebuild(container: Any, keys: tuple[Any, ...], values: list[Any]) -> Any:
    if container is tuple:
        return tuple(values)
    if container is FrozenDict:
        return FrozenDict(zip(keys, values))
    return None  # a registered node: the caller keeps or rebuilds the original


class _MixedAux(tuple[Any, ...]):
    """(container, keys, child positions, static canons); compared and hashed by JAX.

    `container` is `tuple`, `FrozenDict`, or the one-level treedef of a registered
    node. `.statics` holds the static values and `.entries` the children's keys.
    """

    statics: tuple[tuple[int, Any], ...]
    entries: tuple[Any, ...]


class Mixed:
    """Pytree node for a container field in which only some elements are children.

    A module stores it in its flattened children; `value()` rebuilds the field value.
    """

    __slots__ = ("children", "aux")

    children: tuple[Any, ...]
    aux: _MixedAux

    @staticmethod
    def split(container: Any, keys: tuple[Any, ...], results: list[tuple[int, Any, object]]) -> Mixed:
        positions = tuple(i for i, r in enumerate(results) if r[0] != STATIC)
        statics = tuple((i, r[1]) for i, r in enumerate(results) if r[0] == STATIC)
        canons = tuple((i, results[i][2]) for i, _ in statics)
        aux = _MixedAux((container, keys, positions, canons))
        aux.statics = statics
        aux.entries = tuple(_entry(container, keys, i) for i in positions)
        return Mixed.make(tuple(results[i][1] for i in positions), aux)

    @staticmethod
    def make(children: tuple[Any, ...], aux: _MixedAux) -> Mixed:
        m = object.__new__(Mixed)
        m.children = children
        m.aux = aux
        return m

    def value(self) -> Any:
        container, keys, positions, _ = self.aux
        out: list[Any] = [None] * len(keys)
        for i, v in self.aux.statics:
            out[i] = v
        for i, c in zip(positions, self.children):
            out[i] = c.value() if type(c) is Mixed else c
        rebuilt = _rebuild(container, keys, out)
        return container.unflatten(out) if rebuilt is None else rebuilt


def _entry(container: Any, keys: tuple[Any, ...], i: int) -> Any:
    if container is tuple:
        return SequenceKey(i)
    if container is FrozenDict:
        return DictKey(keys[i])
    return keys[i]


def _mixed_flatten_with_keys(m: Mixed) -> tuple[Any, _MixedAux]:
    return tuple(zip(m.aux.entries, m.children)), m.aux


def _mixed_unflatten(aux: _MixedAux, children: tuple[Any, ...]) -> Mixed:
    return Mixed.make(children, aux)


def _mixed_flatten(m: Mixed) -> tuple[tuple[Any, ...], _MixedAux]:
    return m.children, m.aux


register_pytree_with_keys(Mixed, _mixed_flatten_with_keys, _mixed_unflatten, _mixed_flatten)


# --------------------------------------------------------------------- transform arguments


_TRACED_TYPE: dict[type, bool] = {}
_INSIDE_MODULES: LRU[tuple[bool, ...]] = LRU(1024)


def _is_traced_type(tp: type) -> bool:
    known = _TRACED_TYPE.get(tp)
    if known is None:
        known = _TRACED_TYPE[tp] = is_module_class(tp) or _is_array_type(tp)
    return known


def all_traced(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether every leaf of the arguments is traced (an array, or inside a module)."""
    if not kwargs:
        for arg in args:
            tp: type[Any] = arg.__class__
            if not _TRACED_TYPE.get(tp, False):
                break
        else:
            return True
    types: set[type[Any]] = {type(x) for x in tree_leaves_stop_at((args, kwargs), is_module)}
    return all(map(_is_traced_type, types))


def traced_mask(tree: Any, leaves: list[Any], treedef: PyTreeDef) -> tuple[bool, ...]:
    """Per leaf of `tree` (flattened as `leaves`, `treedef`): traced or static.

    A leaf is traced if it lies inside a module (decided by the treedef, so cached)
    or is an array (decided by its type).
    """
    inside = _INSIDE_MODULES.get(treedef)
    if inside is None:
        inside = _INSIDE_MODULES.put(treedef, _inside_modules(tree))
    return tuple(a or is_array(x) for a, x in zip(inside, leaves))


def split_static(tree: T) -> tuple[T, Callable[[T], T]]:
    """(`tree` with its static leaves replaced by None, a function putting them back)."""
    leaves, treedef = tree_flatten(tree)
    mask = traced_mask(tree, leaves, treedef)
    statics = {i: x for i, (x, traced) in enumerate(zip(leaves, mask)) if not traced}
    if not statics:
        return tree, _same
    dynamic: T = treedef.unflatten([None if i in statics else x for i, x in enumerate(leaves)])

    def rebuild(traced: T) -> T:
        parts = treedef.flatten_up_to(traced)
        rebuilt: T = treedef.unflatten([statics[i] if i in statics else x for i, x in enumerate(parts)])
        return rebuilt

    return dynamic, rebuild


def _same(tree: T) -> T:
    return tree


def _inside_modules(tree: Any) -> tuple[bool, ...]:
    out: list[bool] = []
    for node in tree_leaves_stop_at(tree, is_module):
        if is_module(node):
            out.extend([True] * len(tree_leaves(node)))
        else:
            out.append(False)
    return tuple(out)
