"""Methods are modules: `m.encode` is a `nox.BoundMethod` whose child is `m`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ._pytree import FLAT, Aux, make_flat
from ._module import module

__all__ = ["BoundMethod", "MethodDescriptor"]


class MethodDescriptor:
    """Replaces a plain function in a module class body; binds to `BoundMethod`."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.__func__ = fn
        self._aux: Aux | None = None

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self.__func__
        aux = self._aux
        if aux is None:
            aux = self._aux = make_flat(
                BoundMethod, ("__self__",), (obj,), {"__func__": self.__func__}, (self.__func__,)
            )[1]
        bound = object.__new__(BoundMethod)
        d = bound.__dict__
        d["__func__"] = self.__func__
        d["__self__"] = obj
        d[FLAT] = ((obj,), aux)
        return bound

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__func__, name)


@module(name="noxjax.BoundMethod")
class BoundMethod:
    """A method bound to a module instance, itself a module.

    Its child is the instance (`__self__`), so `jax.tree` functions and noxjax
    transforms see the parameters; its static is the function object. It compares
    and hashes like a Python bound method: same function, same instance object.
    """

    __func__: Callable[..., Any]
    __self__: Any

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__func__(self.__self__, *args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if type(other) is not BoundMethod:
            return NotImplemented
        return other.__func__ is self.__func__ and other.__self__ is self.__self__

    def __hash__(self) -> int:
        return hash((self.__func__, id(self.__self__)))

    def __repr__(self) -> str:
        return f"<bound method {self.__func__.__qualname__} of {type(self.__self__).__qualname__}>"

    @property
    def __name__(self) -> str:
        return self.__func__.__name__

    @property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self.__func__)
        return signature.replace(parameters=list(signature.parameters.values())[1:])
