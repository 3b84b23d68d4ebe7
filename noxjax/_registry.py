"""Names for module classes and functions, so files can refer to them without code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, TypeVar

import jax
import jax.numpy as jnp

from ._errors import FieldError

__all__ = [
    "class_by_name",
    "register_class",
    "register_function",
    "function_name",
    "function_by_name",
    "FunctionRef",
    "is_namedtuple_class",
    "find_namedtuple_class",
]

F = TypeVar("F", bound=Callable[..., Any])

_CLASSES: dict[str, type] = {}
_FUNCTION_NAMES: dict[int, tuple[Any, str]] = {}  # id(fn) -> (fn, name); fn keeps id alive
_FUNCTIONS: dict[str, Any] = {}


def _same_definition(a: type, b: type) -> bool:
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def register_class(cls: type, name: str | None) -> str:
    """Give `cls` its registry name; a re-run of the same definition replaces it."""
    name = name or f"{cls.__module__}:{cls.__qualname__}"
    old = _CLASSES.get(name)
    if old is not None and old is not cls and not _same_definition(old, cls):
        raise FieldError(
            f"module name {name!r} is already taken by {old.__module__}.{old.__qualname__}; "
            f"give {cls.__module__}.{cls.__qualname__} another one with "
            f"@nox.module(name=...)"
        )
    _CLASSES[name] = cls
    return name


def class_by_name(name: str) -> type | None:
    return _CLASSES.get(name)


def register_function(fn: F, name: str | None = None) -> F:
    """Allow `fn` as a static field value; it is saved as `name`.

    `name` defaults to `module:qualname`. Usable as a decorator.

    Raises `nox.ArgumentError` for a name another function already has.

    Examples:
        >>> import jax, noxjax as nox
        >>> @nox.register_function
        ... def swish(x):
        ...     return x * jax.nn.sigmoid(x)
        >>> nox.loads(nox.dumps(swish)) is swish
        True
    """
    if name is None:
        name = f"{getattr(fn, '__module__', None)}:{getattr(fn, '__qualname__', None)}"
    old = _FUNCTIONS.get(name)
    if old is not None and old is not fn:
        raise FieldError(
            f"function name {name!r} is already registered for {old!r}; "
            f"pass another name: nox.register_function(fn, 'my.{name}')"
        )
    _FUNCTIONS[name] = fn
    _FUNCTION_NAMES[id(fn)] = (fn, name)
    return fn


def function_name(fn: object) -> str | None:
    """The registered name of `fn`, or None if it was never registered."""
    entry = _FUNCTION_NAMES.get(id(fn))
    return entry[1] if entry is not None and entry[0] is fn else None


def function_by_name(name: str) -> Any | None:
    return _FUNCTIONS.get(name)


def _registered(name: str) -> Any:
    fn = _FUNCTIONS.get(name)
    if fn is None:
        raise FieldError(
            f"cannot unpickle the registered function {name!r}: nothing registered it in "
            f"this process; import the module that calls nox.register_function for it first"
        )
    return fn


class FunctionRef:
    """A registered function as pickle sees it: unpickling looks the name up again."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return (_registered, (self.name,))


_NN = (
    "celu elu gelu glu hard_sigmoid hard_silu hard_swish hard_tanh identity leaky_relu "
    "log_sigmoid log_softmax logsumexp mish one_hot relu relu6 selu sigmoid silu "
    "soft_sign softmax softplus sparse_plus sparse_sigmoid squareplus standardize swish tanh"
)
_JNP = (
    "abs cos cosh exp exp2 expm1 log log1p log2 log10 sin sinh sqrt square tan tanh "
    "negative sign floor ceil round maximum minimum add subtract multiply divide "
    "mean sum max min prod var std argmax argmin ravel transpose matmul dot einsum "
    "concatenate stack reshape squeeze expand_dims clip where"
)


def _register_builtins() -> None:
    for module, prefix, names in ((jax.nn, "jax.nn", _NN), (jnp, "jax.numpy", _JNP)):
        for attr in names.split():
            fn = getattr(module, attr, None)
            if fn is not None and function_name(fn) is None:
                register_function(fn, f"{prefix}.{attr}")


_register_builtins()


def is_namedtuple_class(cls: type) -> bool:
    """A class made by `collections.namedtuple` or `typing.NamedTuple` (optax states)."""
    own = cls.__dict__
    return (
        cls.__bases__ == (tuple,)
        and type(own.get("_fields")) is tuple
        and all(type(f) is str for f in own["_fields"])
        and "_make" in own
        and "_field_defaults" in own
    )


def find_namedtuple_class(name: str) -> type[tuple[Any, ...]] | None:
    """The namedtuple class `module:qualname` among already-imported modules, found
    through `__dict__`s only: no import, no module `__getattr__`, no lazy loading."""
    module_name, _, qualname = name.partition(":")
    module = sys.modules.get(module_name)
    if module is None or "<locals>" in qualname:
        return None
    target: Any = module
    for part in qualname.split("."):
        namespace: Mapping[str, Any] | None = vars(target) if isinstance(target, (ModuleType, type)) else None
        if namespace is None or part not in namespace:
            return None
        target = namespace[part]
    return target if isinstance(target, type) and is_namedtuple_class(target) else None

