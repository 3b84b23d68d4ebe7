"""The tree part of a checkpoint: modules, containers and statics as msgpack data.

`encode` walks an object and returns a msgpack-ready description of it, with
every array replaced by `{"t": "a", "i": n}` and listed separately. `decode`
rebuilds the object from that description and the loaded arrays. Decoding only
looks names up in registries of already-imported classes and functions: it
never imports, evaluates or unpickles anything.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import FormatError
from ._frozendict import FrozenDict
from ._jaxapi import Tracer
from ._method import BoundMethod, MethodDescriptor
from ._format import dtype_from_name
from ._module import from_fields, is_module, is_module_class
from ._pytree import class_info
from ._registry import class_by_name, function_by_name, function_name
from ._static import is_array

__all__ = ["encode", "decode", "SaveError"]

_INT64 = (-(2**63), 2**64 - 1)


class SaveError(FormatError):
    """An object that cannot be written to a file (a static that is not JSON-like, ...)."""


def encode(obj: Any) -> tuple[Any, list[tuple[str, Any]]]:
    """(msgpack-ready tree, [(path, array), ...]) for `obj`; SaveError names bad paths."""
    arrays: list[tuple[str, Any]] = []
    return _encode(obj, "", arrays), arrays


def _encode(x: Any, path: str, arrays: list[tuple[str, Any]]) -> Any:
    tp = type(x)
    if x is None or tp is bool or tp is str or tp is float:
        return x
    if tp is int:
        return x if _INT64[0] <= x <= _INT64[1] else {"t": "int", "v": str(x)}
    if tp is complex:
        return {"t": "complex", "v": [x.real, x.imag]}
    if is_array(x):
        return _encode_array(x, path, arrays)
    if tp is tuple or tp is list:
        return {"t": tp.__name__, "v": [_encode(v, f"{path}[{i}]", arrays) for i, v in enumerate(x)]}
    if tp is dict or tp is FrozenDict:
        return _encode_dict(x, path, arrays)
    if tp is BoundMethod:
        return _encode_method(x, path, arrays)
    if is_module(x):
        return _encode_module(x, path, arrays)
    if isinstance(x, np.dtype):
        return {"t": "dtype", "v": str(x)}
    if isinstance(x, type):
        return _encode_scalar_type(x, path)
    name = function_name(x)
    if name is not None:
        return {"t": "fn", "v": name}
    raise SaveError(_unsavable(path, x))


def _unsavable(path: str, x: Any) -> str:
    return (
        f"cannot save {path or 'the root'} = {x!r}: files hold arrays, modules, JSON-like "
        f"data and registered functions only. Register a function with "
        f"nox.register_function(fn, 'pkg.fn'); other static values cannot be saved."
    )


def _encode_array(x: Any, path: str, arrays: list[tuple[str, Any]]) -> Any:
    if isinstance(x, Tracer):
        raise SaveError(f"cannot save {path or 'the root'}: it is a tracer; save outside jit/grad/vmap")
    if isinstance(x, jax.ShapeDtypeStruct):
        raise SaveError(f"cannot save {path or 'the root'}: a ShapeDtypeStruct has no values")
    arrays.append((path, x))
    return {"t": "a", "i": len(arrays) - 1}


def _encode_dict(x: Mapping[Any, Any], path: str, arrays: list[tuple[str, Any]]) -> Any:
    for k in x:
        if type(k) is not str and type(k) is not int:
            raise SaveError(f"cannot save {path or 'the root'}: dict key {k!r} is not a str or int")
    keys = list(x)
    values = [_encode(x[k], f"{path}[{k!r}]", arrays) for k in keys]
    return {"t": "fdict" if type(x) is FrozenDict else "dict", "k": keys, "v": values}


def _encode_module(x: Any, path: str, arrays: list[tuple[str, Any]]) -> Any:
    cls = type(x)
    info = class_info(cls)
    if info.name == f"{cls.__module__}:{cls.__qualname__}" and (
        cls.__module__ == "__main__" or "<locals>" in cls.__qualname__
    ):
        warnings.warn(
            f"{cls.__qualname__} is defined in {cls.__module__}"
            f"{' inside a function' if '<locals>' in cls.__qualname__ else ''}, so only this "
            f"program can load the file; give it a stable name: @nox.module(name='pkg.{cls.__name__}')",
            stacklevel=4,
        )
    fields = {n: _encode(getattr(x, n), f"{path}.{n}", arrays) for n in info.names}
    return {"t": "m", "c": info.name, "f": fields}


def _encode_method(x: BoundMethod, path: str, arrays: list[tuple[str, Any]]) -> Any:
    fn = x.__func__
    owner = next(
        (c for c in type(x.__self__).__mro__ if isinstance(c.__dict__.get(fn.__name__), MethodDescriptor)
         and c.__dict__[fn.__name__].__func__ is fn),
        None,
    )
    if owner is None or not is_module_class(owner):
        raise SaveError(f"cannot save {path or 'the root'}: method {fn.__qualname__} is not found by name on its class")
    return {"t": "bm", "c": class_info(owner).name, "n": fn.__name__, "s": _encode(x.__self__, f"{path}.__self__", arrays)}


_SCALAR_TYPES: dict[str, Callable[[str], Any]] = {
    "py": lambda name: {"bool": bool, "int": int, "float": float, "complex": complex}[name],
    "np": lambda name: np.dtype(name).type,
    "jnp": lambda name: _jnp_scalar_type(name),
}


def _jnp_scalar_type(name: str) -> Any:
    value = getattr(jnp, name, None)
    if not (isinstance(value, type) and isinstance(getattr(value, "dtype", None), np.dtype)):
        raise KeyError(name)
    return value


def _encode_scalar_type(x: type, path: str) -> Any:
    if x in (bool, int, float, complex):
        return {"t": "stype", "ns": "py", "v": x.__name__}
    if issubclass(x, np.generic):
        return {"t": "stype", "ns": "np", "v": np.dtype(x).name}
    dtype = getattr(x, "dtype", None)
    if isinstance(dtype, np.dtype) and getattr(jnp, dtype.name, None) is x:
        return {"t": "stype", "ns": "jnp", "v": dtype.name}
    raise SaveError(_unsavable(path, x))


# --------------------------------------------------------------------- decoding


def decode(node: Any, arrays: list[Any], path: str = "") -> Any:
    """Rebuild an object from `encode`'s tree; FormatError names the bad path."""
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is not dict:
        raise FormatError(f"bad header: unexpected {type(node).__name__} at {path or 'the root'}")
    tag = node.get("t")
    try:
        return _DECODERS[tag](node, arrays, path)
    except KeyError as e:
        if tag not in _DECODERS:
            raise FormatError(f"bad header: unknown node type {tag!r} at {path or 'the root'}") from None
        raise FormatError(f"bad header: missing or unknown {e} at {path or 'the root'}") from None
    except (TypeError, ValueError, IndexError) as e:
        if isinstance(e, FormatError):
            raise
        raise FormatError(f"bad header at {path or 'the root'}: {e}") from None


def _decode_items(node: dict[str, Any], arrays: list[Any], path: str) -> list[Any]:
    values = node["v"]
    if type(values) is not list:
        raise FormatError(f"bad header: expected a list at {path or 'the root'}")
    return [decode(v, arrays, f"{path}[{i}]") for i, v in enumerate(values)]


def _decode_dict(node: dict[str, Any], arrays: list[Any], path: str) -> Any:
    keys, values = node["k"], node["v"]
    if type(keys) is not list or type(values) is not list or len(keys) != len(values):
        raise FormatError(f"bad header: malformed dict at {path or 'the root'}")
    if any(type(k) is not str and type(k) is not int for k in keys):
        raise FormatError(f"bad header: dict keys must be str or int at {path or 'the root'}")
    out = {k: decode(v, arrays, f"{path}[{k!r}]") for k, v in zip(keys, values)}
    return FrozenDict(out) if node["t"] == "fdict" else out


def _decode_module(node: dict[str, Any], arrays: list[Any], path: str) -> Any:
    cls = _class(node["c"], path)
    fields = node["f"]
    if type(fields) is not dict:
        raise FormatError(f"bad header: malformed module at {path or 'the root'}")
    expected = class_info(cls).names
    if set(fields) != set(expected):
        missing = sorted(set(expected) - set(fields))
        extra = sorted(set(fields) - set(expected))
        raise FormatError(
            f"{cls.__qualname__} at {path or 'the root'} has changed since the file was written: "
            f"fields missing from the file: {missing or 'none'}; fields the class no longer has: "
            f"{extra or 'none'}. Load with the class definition the file was saved with."
        )
    values = {n: decode(fields[n], arrays, f"{path}.{n}") for n in expected}
    return from_fields(cls, values)


def _class(name: Any, path: str) -> type:
    cls = class_by_name(name) if type(name) is str else None
    if cls is None:
        module = str(name).split(":")[0]
        raise FormatError(
            f"unknown module class {name!r} at {path or 'the root'}: noxjax never imports code "
            f"from a file; import the module that defines it (e.g. `import {module}`) before loading"
        )
    return cls


def _decode_method(node: dict[str, Any], arrays: list[Any], path: str) -> Any:
    cls = _class(node["c"], path)
    descriptor = cls.__dict__.get(node["n"]) if type(node["n"]) is str else None
    if not isinstance(descriptor, MethodDescriptor):
        raise FormatError(f"unknown method {node['n']!r} of {cls.__qualname__} at {path or 'the root'}")
    instance = decode(node["s"], arrays, f"{path}.__self__")
    return descriptor.__get__(instance, type(instance))


def _decode_function(node: dict[str, Any], arrays: list[Any], path: str) -> Any:
    fn = function_by_name(node["v"]) if type(node["v"]) is str else None
    if fn is None:
        raise FormatError(
            f"unknown function {node['v']!r} at {path or 'the root'}: import the module that "
            f"registers it with nox.register_function before loading"
        )
    return fn


def _decode_scalar_type(node: dict[str, Any], arrays: list[Any], path: str) -> Any:
    try:
        return _SCALAR_TYPES[node["ns"]](node["v"])
    except (KeyError, TypeError) as e:
        raise FormatError(f"bad header: unknown scalar type {node.get('v')!r} at {path or 'the root'}") from e


def _decode_array(node: dict[str, Any], arrays: list[Any], path: str) -> Any:
    i = node["i"]
    if type(i) is not int or not 0 <= i < len(arrays):
        raise FormatError(f"bad header: array index {i!r} out of range at {path or 'the root'}")
    return arrays[i]


def _decode_int(node: dict[str, Any], arrays: list[Any], path: str) -> int:
    value = node["v"]
    if type(value) is not str or not value.lstrip("-").isdigit() or len(value) > 4300:
        raise FormatError(f"bad header: malformed int at {path or 'the root'}")
    return int(value)


def _decode_complex(node: dict[str, Any], arrays: list[Any], path: str) -> complex:
    re, im = node["v"]
    if type(re) is not float or type(im) is not float:
        raise FormatError(f"bad header: malformed complex at {path or 'the root'}")
    return complex(re, im)


_DECODERS: dict[Any, Callable[[dict[str, Any], list[Any], str], Any]] = {
    "a": _decode_array,
    "tuple": lambda n, a, p: tuple(_decode_items(n, a, p)),
    "list": _decode_items,
    "dict": _decode_dict,
    "fdict": _decode_dict,
    "m": _decode_module,
    "bm": _decode_method,
    "fn": _decode_function,
    "dtype": lambda n, a, p: dtype_from_name(n["v"], p),
    "stype": _decode_scalar_type,
    "int": _decode_int,
    "complex": _decode_complex,
}

