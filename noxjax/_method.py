"""Methods are modules: `m.encode` is a `nox.BoundMethod` whose child is `m`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable
from typing import Any

from ._field import field
from ._module import module
from ._static import canonical
from ._pytree import Aux, build, class_info, make_flat

__all__ = ["BoundMethod", "MethodDescriptor", "FunctionDoc", "bind", "bound_aux", "function_metadata"]


class MethodDescriptor:
    """Replaces a plain function in a module class body; binds to `BoundMethod`.

    It carries the function's `__name__`, `__qualname__`, `__module__`, `__doc__`
    and `__wrapped__`, so doctests and documentation tools find the method.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.__func__ = fn
        this: Any = self
        functools.update_wrapper(this, fn)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self.__func__
        return bind(self.__func__, obj)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__func__, name)


_AUX: dict[Callable[..., Any], Aux] = {}


def bind(fn: Callable[..., Any], obj: Any) -> BoundMethod:
    """`fn` bound to module `obj`, built without `__init__` (the hot path of `m.method`)."""
    aux = _AUX.get(fn)
    if aux is None:
        aux = _AUX[fn] = bound_aux(fn, fn)
    bound: BoundMethod = build(aux, (obj,))
    return bound


def bound_aux(fn: Callable[..., Any], identity: Hashable) -> Aux:
    """The aux of every `BoundMethod` of `fn`, as construction would make it; `identity`
    stands for `fn` in the treedef (the function itself, or a token for a transform
    module, whose own hash is not computed in C)."""
    statics = {"__func__": fn, **function_metadata(fn)}
    return make_flat(BoundMethod, ("__self__",), (None,), statics, (canonical(identity),))[1]


def function_metadata(fn: object) -> dict[str, Any]:
    """The `__module__` and `__qualname__` an instance wrapping `fn` carries in its
    `__dict__` (neither can be a property of the class)."""
    return {
        "__module__": getattr(fn, "__module__", None),
        "__qualname__": getattr(fn, "__qualname__", type(fn).__qualname__),
    }


class FunctionDoc:
    """`__doc__` of a class whose instances wrap a function: the class docstring on
    the class, the function's docstring on an instance."""

    def __init__(self, attribute: str, class_doc: str | None) -> None:
        self.attribute = attribute
        self.class_doc = class_doc

    def __get__(self, obj: Any, owner: type | None = None) -> str | None:
        if obj is None:
            return self.class_doc
        doc: str | None = getattr(obj, self.attribute).__doc__
        return doc


@module(name="noxjax.BoundMethod")
class BoundMethod:
    """A method bound to a module instance, itself a module.

    Its child is the instance (`__self__`), so `jax.tree` functions and noxjax
    transforms see the parameters; its static is the function object. It compares
    and hashes like a Python bound method: same function, same instance object.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Model:
        ...     w: jax.Array
        ...     def encode(self, x):
        ...         return self.w * x
        >>> m = Model(jnp.ones(2))
        >>> isinstance(m.encode, nox.BoundMethod), jax.tree.leaves(m.encode) == [m.w]
        (True, True)
    """

    __func__: Callable[..., Any] = field(static=True)
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


setattr(BoundMethod, "__doc__", FunctionDoc("__func__", BoundMethod.__doc__))
class_info(BoundMethod).extras = lambda fields: function_metadata(fields["__func__"])
