"""`Wrapper`: the base of transform modules that hold a function `fn`.

A transform carries `fn`'s `__name__`, `__qualname__`, `__module__`, `__doc__` and
`__wrapped__`, and is a descriptor: `@nox.jit def __call__(self, x)` in a module
body binds `self` when looked up on an instance, so `self`'s arrays are traced.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._field import open_field
from ._method import BoundMethod, bind
from ._module import Module, replace
from ._pytree import FLAT, Aux, build, class_info

__all__ = ["Wrapper"]

_BOUND = "_nox_bound"  # where an instance caches the aux of its bound form


class _Doc:
    """`__doc__`: the class docstring on the class, `fn`'s docstring on an instance."""

    def __init__(self, class_doc: str | None) -> None:
        self.class_doc = class_doc

    def __get__(self, obj: Any, owner: type | None = None) -> str | None:
        if obj is None:
            return self.class_doc
        doc: str | None = getattr(obj.fn, "__doc__", None)
        return doc


def _wrapped_function(fn: Any) -> Any:
    return fn.__func__ if type(fn) is BoundMethod else fn


def _metadata(fields: dict[str, Any]) -> dict[str, Any]:
    fn = _wrapped_function(fields["fn"])
    return {
        "__module__": getattr(fn, "__module__", None),
        "__qualname__": getattr(fn, "__qualname__", type(fn).__qualname__),
    }


class Wrapper(Module):
    """A transform module around `fn` (declared by each subclass)."""

    fn: Any = open_field()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        class_info(cls).extras = _metadata
        cls.__doc__ = _Doc(cls.__dict__.get("__doc__"))  # type: ignore[assignment]

    @property
    def __name__(self) -> str:
        name: str = getattr(_wrapped_function(self.fn), "__name__", type(self).__name__)
        return name

    @property
    def __wrapped__(self) -> Any:
        return self.fn

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None or not _binds(self.fn):
            return self
        fn = self.fn
        bound = fn.__get__(obj, owner) if isinstance(fn, Wrapper) else bind(fn, obj)
        aux: Aux | None = self.__dict__.get(_BOUND)
        if aux is None:
            new = replace(self, fn=bound)
            children, aux = new.__dict__[FLAT]
            if children != (bound,):
                return new
            self.__dict__[_BOUND] = aux
        return build(aux, (bound,))


def _binds(fn: Any) -> bool:
    """Whether `fn` is a plain function, possibly inside other transforms."""
    while isinstance(fn, Wrapper):
        fn = fn.fn
    return inspect.isfunction(fn)
