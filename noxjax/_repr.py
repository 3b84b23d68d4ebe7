"""Short, safe `repr`: arrays as `f32[64,3]`, never their values (tracers included)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from ._frozendict import FrozenDict
from ._registry import function_name
from ._static import is_array

__all__ = ["module_repr", "short_repr"]

_WIDTH = 88


def _dtype_name(dtype: Any) -> str:
    if jnp.issubdtype(dtype, jax.dtypes.prng_key):
        return "key"
    name = str(np.dtype(dtype))
    for long, short in (("bfloat", "bf"), ("float", "f"), ("uint", "u"), ("int", "i"), ("complex", "c")):
        if name.startswith(long):
            return short + name[len(long):]
    return name


def _array_repr(x: Any) -> str:
    text = f"{_dtype_name(x.dtype)}[{','.join(map(str, x.shape))}]"
    sharding = getattr(x, "sharding", None)
    if isinstance(x, jax.Array) and sharding is not None and len(sharding.device_set) > 1:
        text += f"@{getattr(sharding, 'spec', sharding)}"
    return text


def short_repr(x: Any, indent: str = "") -> str:
    if is_array(x):
        return _array_repr(x)
    if type(x) is tuple:
        items = cast("tuple[object, ...]", x)
        return _join("(", [short_repr(v, indent + "  ") for v in items], ",)" if len(items) == 1 else ")", indent)
    if dataclasses.is_dataclass(x) and not isinstance(x, type) and type(x).__repr__ is module_repr:
        return module_repr(x, indent)
    if isinstance(x, (dict, FrozenDict)):
        mapping = cast("Mapping[object, object]", x)
        entries = [f"{k!r}: {short_repr(v, indent + '  ')}" for k, v in mapping.items()]
        return _join("{", entries, "}", indent)
    name = function_name(x)
    return name if name is not None else repr(x)


def module_repr(self: Any, indent: str = "") -> str:
    parts = [
        f"{f.name}={short_repr(getattr(self, f.name, '<unset>'), indent + '  ')}"
        for f in dataclasses.fields(self)
        if f.repr
    ]
    return _join(f"{type(self).__qualname__}(", parts, ")", indent)


def _join(opening: str, parts: list[str], closing: str, indent: str) -> str:
    one_line = opening + ", ".join(parts) + closing
    if len(one_line) + len(indent) <= _WIDTH and "\n" not in one_line:
        return one_line
    inner = indent + "  "
    return opening + "\n" + "".join(f"{inner}{p},\n" for p in parts) + indent + closing.lstrip(",")
