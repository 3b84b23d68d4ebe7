"""`Wrapper`: the base of transform modules that hold a function `fn`.

A transform carries `fn`'s `__name__`, `__qualname__`, `__module__`, `__doc__` and
`__wrapped__`, and is a descriptor with the semantics of a Python method: with
`@nox.grad def loss(self, x)` in a module body, `m.loss(x)` is
`nox.grad(loss)(m, x)`. The bound form is a `BoundMethod` (a module holding `m`),
so `self`'s arrays are traced.
"""

from __future__ import annotations

import functools
from typing import Any

from ._field import open_field
from ._method import FunctionDoc, bound_aux, function_metadata
from ._module import Module
from ._pytree import Aux, build, class_info
from ._static import is_module

__all__ = ["Wrapper"]

_BOUND = "_nox_bound"  # where an instance caches the aux of its bound methods


class Wrapper(Module):
    """A transform module around `fn` (declared by each subclass)."""

    fn: Any = open_field()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        class_info(cls).extras = lambda fields: function_metadata(fields["fn"])
        setattr(cls, "__doc__", FunctionDoc("fn", cls.__dict__.get("__doc__")))

    @property
    def __name__(self) -> str:  # pyright: ignore[reportIncompatibleVariableOverride]
        name: str = getattr(self.fn, "__name__", type(self).__qualname__)
        return name

    @property
    def __wrapped__(self) -> Any:
        return self.fn

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        this: Any = self  # every subclass defines __call__
        if not is_module(obj):
            return functools.partial(this, obj)
        aux: Aux | None = vars(self).get(_BOUND)
        if aux is None:  # a token, not this module, stands for it: it hashes in C
            aux = vars(self)[_BOUND] = bound_aux(this, object())
        return build(aux, (obj,))
