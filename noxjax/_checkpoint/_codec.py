"""The tree part of a checkpoint: modules, containers and statics as msgpack data.

`encode` walks an object and returns a msgpack-ready description of it, with
every array replaced by `{"t": "a", "i": n}` and listed separately. `decode`
rebuilds the object from that description and the loaded arrays. Decoding only
looks names up in registries of already-imported classes and functions: it
never imports, evaluates or unpickles anything.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Generator, Mapping
from types import FrameType
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import FormatError
from .._frozendict import FrozenDict
from .._jaxapi import Tracer, flatten_one_level_with_path, is_leaf_treedef, keystr
from .._method import BoundMethod, MethodDescriptor
from . import _tags as tags
from ._keypath import ROOT, Path
from ._format import dtype_from_name, header_map, unsavable_dtype
from .._module import from_fields
from .._pytree import class_info
from .._registry import class_by_name, find_namedtuple_class, function_by_name, function_name, is_namedtuple_class
from .._static import is_array, is_module, is_module_class

__all__ = ["encode", "decode", "stack_room", "SaveError"]

_INT64 = (-(2**63), 2**64 - 1)


class SaveError(FormatError):
    """An object that cannot be written to a file (a static that is not JSON-like, ...).

    Raised by `nox.save`, `nox.dumps` and `noxjax.orbax`, naming the key path,
    before any file is touched.

    Examples:
        >>> import noxjax as nox
        >>> nox.dumps({"f": lambda x: x})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._checkpoint._codec.SaveError: cannot save ['f'] = <function <lambda> at ...>...
    """


def encode(obj: Any) -> tuple[Any, list[tuple[str, Any]], list[str]]:
    """(msgpack-ready tree, [(path, array), ...], warnings) for `obj`.

    Raises SaveError, naming the path, for a value that cannot be saved.
    """
    encoder = _Encoder()
    with stack_room():
        tree = encoder.encode(obj, ROOT)
    return tree, encoder.arrays, encoder.warnings


@contextlib.contextmanager
def stack_room() -> Generator[None, None, None]:
    """Enough Python recursion limit to walk MAX_DEPTH levels from where the caller is,
    however deep its own stack already is (restored afterwards)."""
    depth, frame = 0, cast("FrameType | None", sys._getframe())  # pyright: ignore[reportPrivateUsage]
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    needed, limit = depth + _FRAMES_PER_LEVEL * MAX_DEPTH + 100, sys.getrecursionlimit()
    if needed > limit:
        sys.setrecursionlimit(needed)
    try:
        yield
    finally:
        if needed > limit:
            sys.setrecursionlimit(limit)


class _Encoder:
    def __init__(self) -> None:
        self.arrays: list[tuple[str, Any]] = []
        self.warnings: list[str] = []
        self.depth = 0

    def encode(self, x: Any, path: Path) -> Any:
        if self.depth >= MAX_DEPTH:
            raise SaveError(
                f"cannot save {path}: it is nested {MAX_DEPTH} levels deep, deeper than "
                f"nox.load reads; flatten the structure (a list of lists of ... into one list)"
            )
        self.depth += 1
        try:
            return self.node(x, path)
        finally:
            self.depth -= 1

    def node(self, x: Any, path: Path) -> Any:
        tp: type = x.__class__
        if is_array(x):
            return self.array(x, path)
        if tp is str:
            return _utf8(x, path)
        if x is None or tp is bool or tp is float:
            return x
        if tp is int:
            return x if _INT64[0] <= x <= _INT64[1] else {"t": tags.BIG_INT, "v": str(x)}
        if tp is complex:
            return {"t": tags.COMPLEX, "v": [x.real, x.imag]}
        if tp is tuple or tp is list:
            return {"t": tags.TUPLE if tp is tuple else tags.LIST, "v": [self.encode(v, path + f"[{i}]") for i, v in enumerate(x)]}
        if tp is dict or tp is FrozenDict:
            return self.mapping(x, path)
        if tp is BoundMethod:
            return self.method(x, path)
        if is_module(x):
            return self.module(x, path)
        if isinstance(x, np.dtype):
            return {"t": tags.DTYPE, "v": str(x)}  # pyright: ignore[reportUnknownArgumentType]
        if isinstance(x, type):
            return _encode_scalar_type(x, path)
        name = function_name(x)
        if name is not None:
            return {"t": tags.FUNCTION, "v": name}
        if tp is functools.partial:
            return self.partial(x, path)
        if is_namedtuple_class(tp):
            names: tuple[str, ...] = tp.__dict__["_fields"]
            values = [self.encode(v, path + f".{name}") for name, v in zip(names, x)]
            return {"t": tags.NAMEDTUPLE, "c": _qualified_name(tp), "k": list(names), "v": values}
        pairs, node_def = flatten_one_level_with_path(x)
        if is_leaf_treedef(node_def):
            raise SaveError(_unsavable(path, x))
        keys = [keystr(p) for p, _ in pairs]
        values = [self.encode(child, path + k) for k, (_, child) in zip(keys, pairs)]
        return {"t": tags.NODE, "c": _qualified_name(tp), "k": keys, "v": values}

    def partial(self, x: functools.partial[Any], path: Path) -> Any:
        name = function_name(x.func)
        if name is None:
            raise SaveError(_unsavable(path + ".func", x.func))
        args = self.encode(tuple(x.args), path + ".args")
        keywords = self.mapping(dict(x.keywords), path + ".keywords")
        return {"t": tags.PARTIAL, "f": {"t": tags.FUNCTION, "v": name}, "a": args, "k": keywords}

    def array(self, x: Any, path: Path) -> Any:
        if isinstance(x, Tracer):
            raise SaveError(f"cannot save {path or 'the root'}: it is a tracer; save outside jit/grad/vmap")
        if isinstance(x, jax.ShapeDtypeStruct):
            raise SaveError(f"cannot save {path or 'the root'}: a ShapeDtypeStruct has no values")
        why = unsavable_dtype(x)
        if why is not None:
            raise SaveError(f"cannot save {path or 'the root'}: {why}")
        self.arrays.append((path.full(), x))
        return {"t": tags.ARRAY, "i": len(self.arrays) - 1}

    def mapping(self, x: Mapping[Any, Any], path: Path) -> Any:
        for k in x:
            if type(k) is str:
                _utf8(k, path, "dict key")
            elif type(k) is not int or not _INT64[0] <= k <= _INT64[1]:
                raise SaveError(
                    f"cannot save {path or 'the root'}: dict key {k!r} is not a str or an int of at most "
                    f"64 bits; use str keys"
                )
        keys = list(x)
        values = [self.encode(x[k], path + f"[{k!r}]") for k in keys]
        return {"t": tags.FROZEN_DICT if type(x) is FrozenDict else tags.DICT, "k": keys, "v": values}

    def module(self, x: Any, path: Path) -> Any:
        cls: type = x.__class__
        info = class_info(cls)
        local = "<locals>" in cls.__qualname__
        if info.name == f"{cls.__module__}:{cls.__qualname__}" and (cls.__module__ == "__main__" or local):
            self.warnings.append(
                f"{cls.__qualname__} is defined in {cls.__module__}{' inside a function' if local else ''}, "
                f"so only this program can load the file; give it a stable name: "
                f"@nox.module(name='pkg.{cls.__name__}') or class {cls.__name__}(nox.Module, name=...)"
            )
        fields = {n: self.encode(getattr(x, n), path + f".{n}") for n in info.names}
        return {"t": tags.MODULE, "c": info.name, "f": fields}

    def method(self, x: BoundMethod, path: Path) -> Any:
        fn = x.__func__
        owner = next(
            (
                c
                for c in type(x.__self__).__mro__
                if isinstance(c.__dict__.get(fn.__name__), MethodDescriptor) and c.__dict__[fn.__name__].__func__ is fn
            ),
            None,
        )
        if owner is None or not is_module_class(owner):
            raise SaveError(f"cannot save {path or 'the root'}: method {fn.__qualname__} is not found by name on its class")
        return {"t": tags.METHOD, "c": class_info(owner).name, "n": fn.__name__, "s": self.encode(x.__self__, path + ".__self__")}


def _utf8(x: str, path: Path, kind: str = "string") -> str:
    try:
        x.encode("utf-8")
    except UnicodeEncodeError as e:
        raise SaveError(
            f"cannot save {path or 'the root'}: the {kind} {x[:50]!r} is not valid Unicode ({e.reason} at "
            f"position {e.start}); files hold UTF-8 text, so store bytes-like data as an array"
        ) from None
    return x


def _unsavable(path: Path, x: Any) -> str:
    return (
        f"cannot save {path or 'the root'} = {x!r}: files hold arrays, modules, JSON-like "
        f"data and registered functions only. Register a function with "
        f"nox.register_function(fn, 'pkg.fn'); other static values cannot be saved."
    )


_SCALAR_TYPES: dict[str, Callable[[str], Any]] = {
    "py": lambda name: {"bool": bool, "int": int, "float": float, "complex": complex}[name],
    "np": lambda name: dtype_from_name(name).type,
    "jnp": lambda name: _jnp_scalar_type(name),
}


def _jnp_scalar_type(name: str) -> Any:
    value = getattr(jnp, name, None)
    if not (isinstance(value, type) and isinstance(getattr(value, "dtype", None), np.dtype)):
        raise KeyError(name)
    return value


def _encode_scalar_type(x: type[Any], path: Path) -> Any:
    if is_module_class(x):
        return {"t": tags.MODULE_CLASS, "v": class_info(x).name}
    if x in (bool, int, float, complex):
        return {"t": tags.SCALAR_TYPE, "ns": "py", "v": x.__name__}
    if issubclass(x, np.generic):
        return {"t": tags.SCALAR_TYPE, "ns": "np", "v": str(np.dtype(cast(Any, x)))}
    dtype = str(getattr(x, "dtype", ""))
    if dtype and getattr(jnp, dtype, None) is x:
        return {"t": tags.SCALAR_TYPE, "ns": "jnp", "v": dtype}
    raise SaveError(_unsavable(path, x))


# --------------------------------------------------------------------- decoding


MAX_DEPTH = 200
_FRAMES_PER_LEVEL = 4  # decode -> a decoder -> a comprehension -> decode
Node = dict[str, Any]


NO_LIKE: Any = object()  # nothing in like= at this position


def decode(node: object, arrays: list[Any], path: Path | None = None, depth: int = 0, like: Any = NO_LIKE) -> Any:
    """Rebuild an object from `encode`'s tree; FormatError names the bad path.

    `like` is the part of `nox.load(like=...)` at this position: it supplies the
    classes of registered nodes that are not modules (`NO_LIKE` where there is none).
    """
    if node is None or type(node) in (bool, int, float, str):
        return node
    path = ROOT if path is None else path
    where = path or "the root"
    if depth > MAX_DEPTH:
        raise FormatError(f"bad header: nested deeper than {MAX_DEPTH} levels at {where}")
    fields = _node_map(node, "the node", path)
    tag = fields.get("t")
    decoder = _DECODERS.get(tag) if type(tag) is str else None
    if decoder is None:
        raise FormatError(f"bad header: unknown node type {tag!r} at {where} (a node's tag is one of {sorted(tags.TAGS)})")
    try:
        return decoder(fields, arrays, path, depth + 1, like)
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise FormatError(f"bad header at {where}: {type(e).__name__}: {e}") from None


def _node_map(value: object, what: str, path: Path) -> dict[str, Any]:
    """`value` as a map; the message (and so the path's text) is made only on error."""
    if type(value) is not dict:
        raise FormatError(f"bad header: {what} at {path or 'the root'} is not a map")
    return cast("dict[str, Any]", value)


def _list(value: object, path: Path) -> list[object]:
    if not isinstance(value, list):
        raise FormatError(f"bad header: expected a list at {path or 'the root'}")
    return cast("list[object]", value)


def _decode_items(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> list[Any]:
    values = _list(node["v"], path)
    likes: tuple[Any, ...] = tuple(cast("tuple[Any, ...]", like)) if isinstance(like, (tuple, list)) else ()
    if len(likes) != len(values):
        likes = (NO_LIKE,) * len(values)
    return [decode(v, arrays, path + f"[{i}]", depth, child) for i, (v, child) in enumerate(zip(values, likes))]


def _decode_dict(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    keys, values = _list(node["k"], path), _list(node["v"], path)
    if len(keys) != len(values) or any(type(k) is not str and type(k) is not int for k in keys):
        raise FormatError(f"bad header: malformed dict at {path or 'the root'}")
    likes: Mapping[Any, Any] = like if isinstance(like, Mapping) else {}  # pyright: ignore[reportUnknownVariableType]
    out = {k: decode(v, arrays, path + f"[{k!r}]", depth, likes.get(k, NO_LIKE)) for k, v in zip(keys, values)}
    return FrozenDict(out) if node["t"] == tags.FROZEN_DICT else out


def _decode_module(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    cls = _class(node["c"], path)
    fields = _node_map(node["f"], "the fields", path)
    expected = class_info(cls).names
    if set(fields) != set(expected):
        missing = sorted(set(expected) - set(fields))
        extra = sorted(set(fields) - set(expected))
        raise FormatError(
            f"{cls.__qualname__} at {path or 'the root'} has changed since the file was written: "
            f"fields missing from the file: {missing or 'none'}; fields the class no longer has: "
            f"{extra or 'none'}. Load with the class definition the file was saved with."
        )
    likes: dict[str, Any] = like.__dict__ if type(like) is cls else {}
    return from_fields(cls, {n: decode(fields[n], arrays, path + f".{n}", depth, likes.get(n, NO_LIKE)) for n in expected})


def _class(name: object, path: Path) -> type[Any]:
    cls = class_by_name(name) if isinstance(name, str) else None
    if cls is None:
        raise _unknown_class("module class", name, path)
    return cls


def _unknown_class(kind: str, name: object, path: Path) -> FormatError:
    module = str(name).split(":")[0]
    return FormatError(
        f"unknown {kind} {name!r} at {path or 'the root'}: noxjax never imports code "
        f"from a file; import the module that defines it (e.g. `import {module}`) before loading"
    )


def _decode_method(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    cls = _class(node["c"], path)
    name = node["n"]
    descriptor = cls.__dict__.get(name) if isinstance(name, str) else None
    if not isinstance(descriptor, MethodDescriptor):
        raise FormatError(f"unknown method {name!r} of {cls.__qualname__} at {path or 'the root'}")
    instance = decode(node["s"], arrays, path + ".__self__", depth, getattr(like, "__self__", NO_LIKE))
    return descriptor.__get__(instance, cls)


def _decode_function(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    name = node["v"]
    fn = function_by_name(name) if isinstance(name, str) else None
    if fn is None:
        raise FormatError(
            f"unknown function {name!r} at {path or 'the root'}: import the module that "
            f"registers it with nox.register_function before loading"
        )
    return fn


def _decode_scalar_type(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    namespace, name = node["ns"], node["v"]
    if not isinstance(namespace, str) or namespace not in _SCALAR_TYPES or not isinstance(name, str):
        raise FormatError(f"bad header: unknown scalar type {name!r} at {path or 'the root'}")
    try:
        return _SCALAR_TYPES[namespace](name)
    except KeyError:
        raise FormatError(f"bad header: unknown scalar type {name!r} at {path or 'the root'}") from None


def _decode_array(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    i = node["i"]
    if type(i) is not int or not 0 <= i < len(arrays):
        raise FormatError(f"bad header: array index {i!r} out of range at {path or 'the root'}")
    return arrays[i]


def _decode_int(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> int:
    value = node["v"]
    if not isinstance(value, str) or not value.lstrip("-").isdigit() or len(value) > 4300:
        raise FormatError(f"bad header: malformed int at {path or 'the root'}")
    return int(value)


def _decode_complex(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> complex:
    parts = _list(node["v"], path)
    if len(parts) != 2 or any(type(p) is not float for p in parts):
        raise FormatError(f"bad header: malformed complex at {path or 'the root'}")
    return complex(cast(float, parts[0]), cast(float, parts[1]))


def _decode_tuple(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> tuple[Any, ...]:
    return tuple(_decode_items(node, arrays, path, depth, like))


def _decode_class(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    return _class(node["v"], path)


def _decode_dtype(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    return dtype_from_name(node["v"], str(path))


def _decode_node(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    """A registered pytree that is not a module: its class comes from `like=`."""
    name, keys, values = node["c"], _list(node["k"], path), _list(node["v"], path)
    where = path or "the root"
    if like is NO_LIKE:
        raise FormatError(
            f"{where} is an instance of {name}, a registered pytree that is not a noxjax module; noxjax "
            f"never names classes from a file for it, so pass like= with the same structure: "
            f"nox.load(path, like=model)"
        )
    pairs, like_def = flatten_one_level_with_path(like)
    like_keys = [keystr(p) for p, _ in pairs]
    like_class: type = like.__class__
    if _qualified_name(like_class) != name or like_keys != keys or is_leaf_treedef(like_def):
        raise FormatError(
            f"{where} does not match like=: the file has an instance of {name} with children {keys}, "
            f"like= has an instance of {_qualified_name(like_class)} with children {like_keys}"
        )
    children = [decode(v, arrays, path + k, depth, c) for k, v, (_, c) in zip(keys, values, pairs)]
    return like_def.unflatten(children)


def _decode_namedtuple(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    """A namedtuple (an optax state): its class is looked up, never imported or called."""
    name, keys, values = node["c"], _list(node["k"], path), _list(node["v"], path)
    where = path or "the root"
    cls = find_namedtuple_class(name) if isinstance(name, str) else None
    if cls is None:
        raise _unknown_class("namedtuple class", name, path)
    fields: list[str] = list(cls.__dict__["_fields"])
    if fields != keys or len(values) != len(keys):
        raise FormatError(f"{cls.__qualname__} at {where} has fields {fields}, the file has {keys}")
    likes = tuple(like) if type(like) is cls else (NO_LIKE,) * len(keys)
    children = [decode(v, arrays, path + f".{k}", depth, c) for k, v, c in zip(keys, values, likes)]
    rebuilt: tuple[Any, ...] = tuple.__new__(cls, children)  # pyright: ignore[reportUnknownMemberType]
    return rebuilt


def _decode_partial(node: Node, arrays: list[Any], path: Path, depth: int, like: Any) -> Any:
    fn = _node_map(node["f"], "the function of the partial", path)
    if fn.get("t") != tags.FUNCTION:
        raise FormatError(f"bad header: a partial's function must be a registered function at {path or 'the root'}")
    args = _decode_tuple(header_map(node["a"], "bad header: partial args"), arrays, path + ".args", depth, NO_LIKE)
    keywords = _decode_dict(header_map(node["k"], "bad header: partial keywords"), arrays, path + ".keywords", depth, NO_LIKE)
    return functools.partial(decode(fn, arrays, path + ".func", depth), *args, **keywords)


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


_DECODERS: dict[object, Callable[[Node, list[Any], Path, int, Any], Any]] = {
    tags.ARRAY: _decode_array,
    tags.TUPLE: _decode_tuple,
    tags.LIST: _decode_items,
    tags.DICT: _decode_dict,
    tags.FROZEN_DICT: _decode_dict,
    tags.MODULE: _decode_module,
    tags.METHOD: _decode_method,
    tags.FUNCTION: _decode_function,
    tags.DTYPE: _decode_dtype,
    tags.MODULE_CLASS: _decode_class,
    tags.SCALAR_TYPE: _decode_scalar_type,
    tags.BIG_INT: _decode_int,
    tags.COMPLEX: _decode_complex,
    tags.NODE: _decode_node,
    tags.NAMEDTUPLE: _decode_namedtuple,
    tags.PARTIAL: _decode_partial,
}
