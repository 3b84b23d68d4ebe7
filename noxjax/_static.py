"""The static rule: which field values are children (traced) and which are static.

`classify` decides once per field value at construction. Static values get a
*canonical form* (`canon`) that is hashable and compares type-strictly, with NaN
equal to NaN; treedefs compare those, so jit caches neither merge `1` with `1.0`
nor miss on a NaN hyperparameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, cast

import jax
import numpy as np

from ._errors import FieldError
from ._frozendict import FrozenDict, sorted_keys
from ._jaxapi import DictKey, SequenceKey, Tracer, is_leaf_treedef, register_pytree_with_keys, tree_flatten
from ._registry import function_name

__all__ = ["STATIC", "CHILD", "MIXED", "OPEN", "Mixed", "classify", "canonical", "is_array", "fast_kind", "add_child_type"]

STATIC: Final = 0
CHILD: Final = 1
MIXED: Final = 2

_FLOAT, _BOOL, _COMPLEX, _DTYPE, _TYPE, _DICT, _ANY, _NAN = (object() for _ in range(8))
_JSON_SCALARS = (type(None), bool, int, float, complex, str)

# Exact types whose kind is known without looking at the value. int, str and None
# are their own canonical form; module classes and array types are added as seen.
_FAST_KIND: dict[type, int] = {int: STATIC, str: STATIC, type(None): STATIC}

MSG_BAD_VALUE = """{where} = {value!r} cannot be a field value.
A field holds arrays, modules, or JSON-like data (None, bool, int, float, complex,
str, dtypes, and tuples/lists/dicts of these with str or int keys). To keep a
function, register it so that a saved model can name it:

    nox.register_function(my_fn, "mypkg.my_fn")

or wrap the behaviour in a module with a `__call__` method. To keep any other
hashable value as a static anyway (it cannot be saved), declare the field with
`nox.field(static=True)`.
"""


def fast_kind(tp: type) -> int | None:
    return _FAST_KIND.get(tp)


def add_child_type(tp: type) -> None:
    _FAST_KIND[tp] = CHILD


def is_array(value: object) -> bool:
    """Array-like: an instance (not a type) with `shape` and `dtype`."""
    return (
        not isinstance(value, type)
        and hasattr(value, "shape")
        and hasattr(value, "dtype")
    )


def _is_scalar_type(value: object) -> bool:
    if not isinstance(value, type):
        return False
    return value in (bool, int, float, complex) or isinstance(
        getattr(value, "dtype", None), np.dtype
    ) or issubclass(value, np.generic)


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
    return value  # int, str, None


OPEN: Final = "open"  # a `static` setting for transform options: the rule, else any hashable


def classify(value: Any, static: bool | str | None, where: str) -> tuple[int, Any, object]:
    """(kind, stored value, canonical form) of a field value; raises FieldError."""
    if static is None:
        return _infer(value, where)
    if static == OPEN:
        try:
            return _infer(value, where)
        except FieldError:
            return _static_any(value, where)
    if is_array(value) and static:
        raise FieldError(
            f"{where} is declared static=True but holds an array; arrays are always "
            f"traced. Remove static=True, or store a hashable description instead."
        )
    if not static:
        return CHILD, _freeze_children(value), None
    return _static_any(value, where)


def _static_any(value: Any, where: str) -> tuple[int, Any, object]:
    try:
        kind, value, canon = _infer(value, where)
        if kind == STATIC:
            return STATIC, value, canon
    except FieldError:
        pass
    try:
        hash(value)
    except TypeError as e:
        raise FieldError(
            f"{where} is declared static=True, so its value must be hashable, "
            f"but {type(value).__name__} is not ({e}). Use a tuple instead of a list, "
            f"or drop static=True."
        ) from None
    tp: type[Any] = value.__class__
    return STATIC, value, (_ANY, tp, value)


def canonical(value: Any) -> object:
    """The canonical form of a static argument leaf; a TypeError if it is unhashable."""
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
    kind = _FAST_KIND.get(tp)
    if kind is not None:
        return kind, value, value
    if tp in _JSON_SCALARS:
        return STATIC, value, _canon_scalar(value)
    if tp is tuple or tp is list:
        return _infer_items(range(len(value)), value, False, where)
    if tp is dict or tp is FrozenDict:
        keys = sorted_keys(value)
        for k in keys:
            if type(k) is not str and type(k) is not int:
                raise FieldError(f"{where} has dict key {k!r}; dict keys must be str or int.")
        return _infer_items(keys, [value[k] for k in keys], True, where)
    if isinstance(value, np.dtype):
        dtype: np.dtype[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return STATIC, dtype, (_DTYPE, dtype)
    if _is_scalar_type(value) or (isinstance(value, type) and "__nox_info__" in value.__dict__):
        return STATIC, value, (_TYPE, value)  # dtypes' scalar types, module classes
    if is_array(value):
        if isinstance(value, (jax.Array, Tracer, np.generic)):
            add_child_type(tp)
        return CHILD, _freeze_array(value), None
    if function_name(value) is not None:
        return STATIC, value, value
    if _is_array_pytree(value):
        return CHILD, value, None
    raise FieldError(MSG_BAD_VALUE.format(where=where, value=value))


def _is_array_pytree(value: object) -> bool:
    """A registered container (namedtuple, optax state, ...) of arrays only."""
    leaves, treedef = tree_flatten(value)
    return not is_leaf_treedef(treedef) and all(map(is_array, leaves))


def _infer_items(
    keys: Iterable[Any], values: Iterable[Any], is_dict: bool, where: str
) -> tuple[int, Any, object]:
    keys = tuple(keys)
    results = [
        _infer(v, f"{where}[{k!r}]" if is_dict else f"{where}[{k}]")
        for k, v in zip(keys, values)
    ]
    stored = [r[1] for r in results]
    container: Any = FrozenDict(zip(keys, stored)) if is_dict else tuple(stored)
    kinds = {r[0] for r in results}
    if kinds <= {STATIC}:
        canons = tuple(r[2] for r in results)
        return STATIC, container, ((_DICT, keys, canons) if is_dict else canons)
    if kinds == {CHILD}:
        return CHILD, container, None
    mixed = Mixed.split(keys, results, is_dict)
    return MIXED, mixed, None


class _MixedAux(tuple[Any, ...]):
    """(is_dict, keys, child positions, static canons); `.statics` holds the values."""

    statics: tuple[tuple[int, Any], ...]


class Mixed:
    """Pytree node for a tuple or dict field in which only some elements are children.

    A module stores it in its flattened children; `value()` rebuilds the field value.
    """

    __slots__ = ("children", "aux")

    children: tuple[Any, ...]
    aux: _MixedAux

    @staticmethod
    def split(keys: tuple[Any, ...], results: list[tuple[int, Any, object]], is_dict: bool) -> Mixed:
        positions = tuple(i for i, r in enumerate(results) if r[0] != STATIC)
        statics = tuple((i, r[1]) for i, r in enumerate(results) if r[0] == STATIC)
        canons = tuple((i, results[i][2]) for i, _ in statics)
        aux = _MixedAux((is_dict, keys, positions, canons))
        aux.statics = statics
        return Mixed.make(tuple(results[i][1] for i in positions), aux)

    @staticmethod
    def make(children: tuple[Any, ...], aux: _MixedAux) -> Mixed:
        m = object.__new__(Mixed)
        m.children = children
        m.aux = aux
        return m

    def value(self) -> Any:
        is_dict, keys, positions, _ = self.aux
        out: list[Any] = [None] * len(keys)
        for i, v in self.aux.statics:
            out[i] = v
        for i, c in zip(positions, self.children):
            out[i] = c.value() if type(c) is Mixed else c
        return FrozenDict(zip(keys, out)) if is_dict else tuple(out)

    def _key(self, i: int) -> Any:
        is_dict, keys, _, _ = self.aux
        return DictKey(keys[i]) if is_dict else SequenceKey(i)


def _mixed_flatten_with_keys(m: Mixed) -> tuple[Any, _MixedAux]:
    keys = [m._key(i) for i in m.aux[2]]  # pyright: ignore[reportPrivateUsage]
    return tuple(zip(keys, m.children)), m.aux


def _mixed_unflatten(aux: _MixedAux, children: tuple[Any, ...]) -> Mixed:
    return Mixed.make(children, aux)


def _mixed_flatten(m: Mixed) -> tuple[tuple[Any, ...], _MixedAux]:
    return m.children, m.aux


register_pytree_with_keys(Mixed, _mixed_flatten_with_keys, _mixed_unflatten, _mixed_flatten)
