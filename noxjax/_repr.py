"""Short, safe `repr`: arrays as `f32[64,3]`, never their values (tracers included)."""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Mapping
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from ._frozendict import FrozenDict
from ._jaxapi import eval_shape, keystr, tree_flatten_with_path
from ._registry import function_name
from ._static import is_array

__all__ = ["module_repr", "short_repr", "summary", "pretty", "treescope_repr", "dtype_shape", "join_wrapped"]

_WIDTH = 88


def _dtype_name(dtype: Any) -> str:
    if jnp.issubdtype(dtype, jax.dtypes.prng_key):
        return "key"
    name = str(np.dtype(dtype))
    for long, short in (("bfloat", "bf"), ("float", "f"), ("uint", "u"), ("int", "i"), ("complex", "c")):
        if name.startswith(long):
            return short + name[len(long):]
    return name


def dtype_shape(dtype: Any, shape: tuple[int, ...]) -> str:
    """`f32[64,3]`: how arrays print."""
    return f"{_dtype_name(dtype)}[{','.join(map(str, shape))}]"


def _array_repr(x: Any) -> str:
    text = dtype_shape(x.dtype, tuple(x.shape))
    split = _split_sharding(x)
    return text if split is None else f"{text}@{getattr(split, 'spec', split)}"


def _split_sharding(x: Any) -> Any:
    """The sharding of a concrete array split across devices, else None (replicated,
    one device, a tracer, a numpy array)."""
    sharding = getattr(x, "sharding", None) if isinstance(x, jax.Array) else None
    return None if sharding is None or sharding.is_fully_replicated else sharding


def short_repr(x: Any, indent: str = "") -> str:
    if is_array(x):
        return _array_repr(x)
    if type(x) is tuple:
        items = cast("tuple[object, ...]", x)
        return join_wrapped("(", [short_repr(v, indent + "  ") for v in items], ",)" if len(items) == 1 else ")", indent)
    if dataclasses.is_dataclass(x) and not isinstance(x, type) and type(x).__repr__ is module_repr:
        return module_repr(x, indent)
    if isinstance(x, (dict, FrozenDict)):
        mapping = cast("Mapping[object, object]", x)
        entries = [f"{k!r}: {short_repr(v, indent + '  ')}" for k, v in mapping.items()]
        return join_wrapped("{", entries, "}", indent)
    name = function_name(x)
    return name if name is not None else repr(x)


def module_repr(self: Any, indent: str = "") -> str:
    parts = [
        f"{f.name}={short_repr(getattr(self, f.name, '<unset>'), indent + '  ')}"
        for f in dataclasses.fields(self)
        if f.repr
    ]
    return join_wrapped(f"{type(self).__qualname__}(", parts, ")", indent)


def join_wrapped(opening: str, parts: list[str], closing: str, indent: str) -> str:
    one_line = opening + ", ".join(parts) + closing
    if len(one_line) + len(indent) <= _WIDTH and "\n" not in one_line:
        return one_line
    inner = indent + "  "
    return opening + "\n" + "".join(f"{inner}{p},\n" for p in parts) + indent + closing.lstrip(",")


def summary(tree: Any) -> str:
    """A table of the arrays in `tree`: key path, dtype, shape, parameter count and
    bytes, with totals. Never reads array values (safe under `jit`).

    Never raises.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> print(nox.summary({"w": jnp.ones((2, 3))}))
        path   dtype  shape   params  bytes
        -----  -----  ------  ------  -----
        ['w']  f32    [2, 3]       6     24
        -----  -----  ------  ------  -----
        total                      6     24
    """
    rows = [
        (keystr(path) or "<root>", _dtype_name(x.dtype), str(list(x.shape)), math.prod(x.shape), _nbytes(x))
        for path, x in tree_flatten_with_path(tree)[0]
        if is_array(x)
    ]
    total = ("total", "", "", sum(r[3] for r in rows), sum(r[4] for r in rows))
    header = ("path", "dtype", "shape", "params", "bytes")
    table = [header] + [(p, d, s, f"{n:,}", f"{b:,}") for p, d, s, n, b in [*rows, total]]
    widths = [max(len(str(row[i])) for row in table) for i in range(5)]
    lines = ["  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, lines[1])
    return "\n".join(lines)


def _nbytes(x: Any) -> int:
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):  # the bytes of its key data (old JAX has no key nbytes)
        x = eval_shape(jax.random.key_data, x)
    count: int = math.prod(x.shape)
    itemsize: int = np.dtype(x.dtype).itemsize
    return count * itemsize


def pretty(self: Any, printer: Any, cycle: bool) -> None:
    """IPython's `_repr_pretty_` hook: the same short repr."""
    printer.text(repr(self) if not cycle else f"{type(self).__qualname__}(...)")


def treescope_repr(self: Any, path: str | None, subtree_renderer: Any) -> Any:
    """treescope's `__treescope_repr__` hook: the class, colored by its name, and its
    fields, arrays summarized by treescope and annotated with their sharding when
    they are split across devices. treescope is imported only here."""
    parts: Any = importlib.import_module("treescope.rendering_parts")  # untyped
    color: Any = importlib.import_module("treescope.formatting_util").color_from_string(type(self).__qualname__)
    names = [f.name for f in dataclasses.fields(self) if f.repr]
    children: list[Any] = []
    for i, name in enumerate(names):
        value = getattr(self, name, "<unset>")
        comma = (
            parts.siblings(",", parts.fold_condition(collapsed=parts.text(" ")))
            if i < len(names) - 1
            else parts.fold_condition(expanded=parts.text(","))
        )
        note = _sharding_note(value)
        if note:
            comma = parts.siblings(comma, parts.fold_condition(expanded=parts.comment_color(parts.text(f"  # {note}"))))
        field = parts.siblings_with_annotations(f"{name}=", subtree_renderer(value, path=None if path is None else f"{path}.{name}"))
        children.append(parts.build_full_line_with_annotations(field, comma))
    return parts.build_foldable_tree_node_from_children(
        prefix=parts.siblings(parts.maybe_qualified_type_name(type(self)), "("),
        children=children,
        suffix=")",
        path=path,
        background_color=color,
    )


def _sharding_note(x: Any) -> str | None:
    """`sharded P(...) over mesh {...}` for an array split across devices, else None."""
    sharding = _split_sharding(x)
    if sharding is None:
        return None
    mesh = getattr(sharding, "mesh", None)
    where = f" over mesh {dict(mesh.shape)}" if mesh is not None else ""
    return f"sharded {getattr(sharding, 'spec', sharding)}{where}"
