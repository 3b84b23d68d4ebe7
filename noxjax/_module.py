"""`@nox.module` and `nox.Module`: frozen dataclasses registered as pytrees.

Making a module (`_make_module`) runs `dataclasses.dataclass(frozen=True)`, wraps
`__init__` so that the instance is classified and frozen when the outermost
`__init__` returns, wraps plain methods so they return `nox.BoundMethod`, and
registers the class as a pytree. Nothing is added to attribute lookup or calls.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar, overload

from typing_extensions import Self, dataclass_transform

from ._equality import module_eq, module_hash
from ._errors import (
    MSG_ASSIGN,
    MSG_NOT_A_FIELD,
    MSG_NOT_BUILT,
    ArgumentError,
    FieldError,
    FrozenError,
    NotBuiltError,
    UnknownFieldError,
)
from ._field import field, field_options, user_metadata
from ._frozendict import FrozenDict
from ._pytree import FLAT, ClassInfo, FieldKey, class_info, make_flat, register
from ._registry import FunctionRef, function_name, register_class
from ._repr import module_repr, pretty, treescope_repr
from ._static import MIXED, MODULE, STATIC, check_built, classify, fast_kind, is_module, is_module_class, learn_module_class

__all__ = ["module", "Module", "replace", "from_fields"]

T = TypeVar("T")

MSG_DECORATED_SUBCLASS = """{cls} subclasses nox.Module, so it is already a module;
remove the decorator and pass options as class keywords:

    @nox.module(kw_only=True)                    # wrong
    class {cls}(nox.Module): ...

    class {cls}(nox.Module, kw_only=True): ...   # right
"""

MSG_AUTO_FAILED = """{cls} subclasses module {base} and could not be made a module
with the options it inherits (kw_only={kw_only}): {error}
Decorate it with the options it needs, e.g. @nox.module(kw_only=True), or for
nox.Module subclasses pass them as class keywords: class {cls}({base}, kw_only=True).
"""

MSG_DEFINITION = """{cls} cannot be a module: {error}
Fix the class body; for example, fields without a default come before fields with
one, or pass kw_only=True:

    class {cls}(nox.Module, kw_only=True): ...
"""

MSG_SLOTS = """{cls} declares __slots__, but a module keeps its fields and its flattened
form in the instance __dict__. Remove __slots__; modules are already immutable.
"""


# --------------------------------------------------------------------- construction


def _finalize(self: Any, cls: type, info: ClassInfo) -> None:
    """Classify every field value once, convert containers, and freeze."""
    d: dict[str, Any] = self.__dict__
    if len(d) != len(info.spec):
        _check_attributes(d, cls)
    names: list[str] = []
    children: list[Any] = []
    statics: dict[str, Any] = {}
    canon: list[Any] = []
    for name, static in info.spec:
        value = d.get(name, _UNSET)
        if value is _UNSET:
            _check_attributes(d, cls)
            value = d[name]
        kind = fast_kind(type(value)) if static is None else None  # pyright: ignore[reportUnknownArgumentType]
        canonical: Any = value
        if kind == MODULE:
            check_built(value, f"{cls.__qualname__}.{name}")
        elif kind is None:
            kind, value, canonical = classify(value, static, f"{cls.__qualname__}.{name}")
            if kind == MIXED:
                info.may_mix = True
                d[name] = value.value()
            else:
                d[name] = value
        if kind == STATIC:
            statics[name] = value
            canon.append(canonical)
        else:
            names.append(name)
            children.append(value)
    if info.extras is not None:
        extras = info.extras(d)
        d.update(extras)
        statics = {**statics, **extras}
    d[FLAT] = make_flat(cls, tuple(names), tuple(children), statics, tuple(canon))


_UNSET: Any = object()


def _check_attributes(d: dict[str, Any], cls: type) -> None:
    """Fill `init=False` defaults; a field still unset is an error that also names
    any attribute set that is not a field."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, f in fields.items():
        if name not in d and f.default is not dataclasses.MISSING:
            d[name] = f.default
    missing = [name for name in fields if name not in d]
    if missing:
        extra = [name for name in d if name not in fields]
        also = f" It also set {', '.join(map(repr, extra))}, which {'is not a field' if len(extra) == 1 else 'are not fields'}." if extra else ""
        raise FieldError(
            f"{cls.__qualname__}.__init__ returned without setting field(s) "
            f"{', '.join(map(repr, missing))}; a custom __init__ must assign every field "
            f"(self.{missing[0]} = ...) or the field needs a default.{also}"
        )


def _wrap_init(cls: type, init: Callable[..., None], info: ClassInfo) -> Callable[..., None]:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except TypeError:
            _explain_bad_call(cls, init, self, args, kwargs)
            raise
        if type(self) is cls:
            _finalize(self, cls, info)

    return __init__


def _post_init(user: Callable[..., None] | None) -> Callable[..., None]:
    """The `__post_init__` of a class whose `__init__` dataclasses generate: it runs the
    user's `__post_init__` (validation), then classifies and freezes. The generated
    `__init__` itself stays as dataclasses wrote it, so beartype, jaxtyping and
    `inspect.signature` see its real parameters and annotations."""

    def __post_init__(self: Any, *init_vars: Any) -> None:
        if user is not None:
            user(self, *init_vars)
        cls: type = self.__class__
        info = class_info(cls)
        if not info.custom_init:  # else the custom __init__ finalizes when it returns
            _finalize(self, cls, info)

    setattr(__post_init__, "__nox_user__", user)
    return __post_init__


def _user_post_init(cls: type) -> Callable[..., None] | None:
    """The user's `__post_init__`, the class's own or inherited (unwrapped from a
    parent module's generated one, so a module is finalized once)."""
    found: Any = getattr(cls, "__post_init__", None)
    user: Callable[..., None] | None = getattr(found, "__nox_user__", found)
    return user


def _explain_bad_call(cls: type, init: Callable[..., None], self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Turn a signature mismatch into a FieldError that shows the signature."""
    signature = inspect.signature(init)
    try:
        signature.bind(self, *args, **kwargs)
    except TypeError as bind_error:
        params = [p.replace(annotation=p.empty) for p in list(signature.parameters.values())[1:]]
        shown = signature.replace(parameters=params, return_annotation=signature.empty)
        raise FieldError(f"cannot construct {cls.__qualname__}: {bind_error}. Its signature is {cls.__qualname__}{shown}.") from None


def _setattr(self: Any, name: str, value: Any) -> None:
    cls: type = self.__class__
    names = class_info(cls).names
    if name not in names:
        unset = [n for n in names if n not in self.__dict__]  # empty once built
        raise UnknownFieldError(_not_a_field(cls, name, unset))
    if FLAT in self.__dict__:
        raise FrozenError(MSG_ASSIGN.format(verb="assign to", name=name, cls=cls.__qualname__))
    object.__setattr__(self, name, value)


def _not_a_field(cls: type, name: str, unset: list[str]) -> str:
    names = class_info(cls).names
    message = MSG_NOT_A_FIELD.format(cls=cls.__qualname__, name=name, fields=", ".join(names))
    if unset:
        message += f"Also, __init__ has not set {', '.join(map(repr, unset))} yet: a custom __init__ must set every field.\n"
    return message


def _getattr(self: Any, name: str) -> Any:
    """Only reached when normal lookup fails: explain a module that is not built yet."""
    if name == FLAT:
        raise NotBuiltError(MSG_NOT_BUILT.format(cls=type(self).__qualname__))
    raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)


def _delattr(self: Any, name: str) -> None:
    if FLAT in self.__dict__:
        raise FrozenError(MSG_ASSIGN.format(verb="delete", name=name, cls=type(self).__qualname__))
    object.__delattr__(self, name)


def _copy(self: T) -> T:
    return self


def _deepcopy(self: T, memo: dict[int, Any]) -> T:
    return self


def _replace_method(self: T, **changes: Any) -> T:
    return replace(self, **changes)


def from_fields(cls: type[T], values: dict[str, Any]) -> T:
    """An instance with these field values, checked by the static rule; no `__init__`."""
    new = object.__new__(cls)
    new.__dict__.update(values)
    _finalize(new, cls, class_info(cls))
    return new


def _reduce(self: Any) -> tuple[Any, ...]:
    cls: type = self.__class__
    return (from_fields, (cls, {n: _by_name(self.__dict__[n]) for n in class_info(cls).names}))


def _by_name(value: Any) -> Any:
    """`value` with registered functions replaced by references that pickle by name."""
    tp: type[Any] = value.__class__
    if tp is tuple:
        return tuple(map(_by_name, value))
    if tp is FrozenDict:
        return FrozenDict({k: _by_name(v) for k, v in value.items()})
    name = function_name(value)
    return value if name is None else FunctionRef(name)


_GENERATED: dict[str, Any] = {
    "__setattr__": _setattr,
    "__delattr__": _delattr,
    "__eq__": module_eq,
    "__hash__": module_hash,
    "__repr__": module_repr,
    "_repr_pretty_": pretty,
    "__treescope_repr__": treescope_repr,
    "__copy__": _copy,
    "__deepcopy__": _deepcopy,
    "__replace__": _replace_method,
    "__reduce__": _reduce,
    "__getattr__": _getattr,
}


# --------------------------------------------------------------------- making a class a module


def _restore(cls: type, snapshot: dict[str, Any]) -> None:
    """Put the class body back as written, before making it again with other options."""
    for name in list(cls.__dict__):
        if name not in snapshot:
            delattr(cls, name)
    for name, value in snapshot.items():
        if cls.__dict__.get(name) is not value:
            setattr(cls, name, value)


def _snapshot(cls: type) -> dict[str, Any]:
    """The class body as written; `dataclasses.Field`s are copied, since making the
    dataclass fills their unset options (`kw_only`) in place."""
    snapshot: dict[str, Any] = dict(cls.__dict__)
    for name in [k for k, v in snapshot.items() if isinstance(v, dataclasses.Field)]:
        snapshot[name] = copy.copy(snapshot[name])
    return snapshot


def _make_module(cls: type, kw_only: bool, name: str | None, auto: bool) -> None:
    snapshot: dict[str, Any] | None = cls.__dict__.get("__nox_snapshot__")
    if snapshot is not None:
        _restore(cls, snapshot)
    snapshot = _snapshot(cls)
    _check_options(cls, kw_only, name)
    if "__slots__" in snapshot:
        raise FieldError(MSG_SLOTS.format(cls=cls.__qualname__))
    _override_defaults(cls, snapshot)
    try:
        parent_init = _inherited_init(cls, snapshot)
        generated = parent_init is None and "__init__" not in snapshot
        if generated:
            setattr(cls, "__post_init__", _post_init(_user_post_init(cls)))
        dataclasses.dataclass(frozen=True, eq=False, repr=False, kw_only=kw_only, init=parent_init is None)(cls)
    except (TypeError, ValueError) as e:
        if auto and Module not in cls.__mro__:  # a decorator may still give the options it needs
            _mark_failed(cls, snapshot, kw_only, e)
            return
        _restore(cls, snapshot)
        raise FieldError(MSG_DEFINITION.format(cls=cls.__qualname__, error=e)) from None
    fields = dataclasses.fields(cls)
    _resolve_field_types(cls, fields)
    if any(f.name == FLAT for f in fields):
        raise FieldError(f"{cls.__qualname__}: the field name {FLAT!r} is reserved by noxjax")
    info = ClassInfo(
        spec=tuple((f.name, field_options(f).static) for f in fields),
        keys={f.name: _field_key(cls, f) for f in fields},
        custom_init="__init__" in snapshot or parent_init is not None,
        kw_only=kw_only,
        auto=auto,
        name=register_class(cls, name),
    )
    for attr, value in _GENERATED.items():
        if attr not in snapshot:
            setattr(cls, attr, value)
    if not generated:
        setattr(cls, "__init__", _wrap_init(cls, parent_init or cls.__dict__["__init__"], info))
    setattr(cls, "__nox_info__", info)
    _wrap_methods(cls, snapshot)
    if cls not in _REGISTERED:
        register(cls)
        _REGISTERED.add(cls)
    learn_module_class(cls)
    if Module not in cls.__mro__:
        Module.register(cls)
    if "__init_subclass__" in snapshot or (Module not in cls.__mro__ and not _has_module_base(cls)):
        setattr(cls, "__init_subclass__", _auto_init_subclass(cls, snapshot.get("__init_subclass__")))
    setattr(cls, "__nox_snapshot__", snapshot)


def _resolve_field_types(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> None:
    """Evaluate string annotations (`from __future__ import annotations`) once, so that
    tools reading `dataclasses.fields` (jaxtyping, beartype) see types. Best effort: a
    forward reference that does not resolve yet keeps every annotation as written."""
    if not any(isinstance(f.type, str) for f in fields):
        return
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:  # noqa: BLE001 - unresolvable annotations are the user's to keep
        return
    for f in fields:
        if f.name in hints:
            f.type = hints[f.name]


def _inherited_init(cls: type, snapshot: dict[str, Any]) -> Callable[..., None] | None:
    """The custom `__init__` a subclass keeps when it adds no fields and no `__init__`."""
    if "__init__" in snapshot or snapshot.get("__annotations__"):
        return None
    base = next((b for b in cls.__mro__[1:] if is_module_class(b)), None)
    if base is None or not class_info(base).custom_init:
        return None
    init: Callable[..., None] = base.__dict__["__init__"].__wrapped__
    return init


def _check_options(cls: type, kw_only: object, name: object) -> None:
    if not isinstance(kw_only, bool):
        raise FieldError(f"{cls.__qualname__}: kw_only must be True or False, got {kw_only!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise FieldError(f"{cls.__qualname__}: name must be a non-empty str such as 'mypkg.{cls.__name__}', got {name!r}")


def _override_defaults(cls: type, snapshot: dict[str, Any]) -> None:
    """`a = 5` in a subclass body re-declares inherited field `a` with that default."""
    inherited: dict[str, dataclasses.Field[Any]] = getattr(cls, "__dataclass_fields__", {})
    own = cls.__dict__.get("__annotations__", {})
    for attr, value in snapshot.items():
        f = inherited.get(attr)
        if f is None or attr in own or inspect.isfunction(value) or isinstance(value, (property, classmethod, staticmethod)):
            continue
        if "__annotations__" not in cls.__dict__:
            setattr(cls, "__annotations__", {})
        cls.__dict__["__annotations__"][attr] = f.type
        new: Any = value
        if not isinstance(value, dataclasses.Field):
            new = dataclasses.field(default=value, init=f.init, repr=f.repr, kw_only=f.kw_only, metadata=f.metadata)
        setattr(cls, attr, new)


_REGISTERED: set[type] = set()


def _has_module_base(cls: type) -> bool:
    return any(is_module_class(b) for b in cls.__mro__[1:])


def _field_key(cls: type, f: dataclasses.Field[Any]) -> FieldKey:
    options = field_options(f)
    return FieldKey(f.name, cls, options.static, options.tags, user_metadata(f))


def _mark_failed(cls: type, snapshot: dict[str, Any], kw_only: bool, error: Exception) -> None:
    """An undecorated subclass that cannot be made a module: fail when it is used."""
    _restore(cls, snapshot)
    base = next(b for b in cls.__mro__[1:] if is_module_class(b))
    message = MSG_AUTO_FAILED.format(cls=cls.__name__, base=base.__name__, kw_only=kw_only, error=error)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        raise FieldError(message)

    setattr(cls, "__init__", __init__)
    setattr(cls, "__nox_snapshot__", snapshot)


def _wrap_methods(cls: type, snapshot: dict[str, Any]) -> None:
    from ._method import MethodDescriptor  # _method defines BoundMethod, itself a module

    for attr, value in snapshot.items():
        dunder = attr.startswith("__") and attr.endswith("__")
        if inspect.isfunction(value) and not dunder:
            setattr(cls, attr, MethodDescriptor(value))
        elif dunder and is_module(value) and hasattr(value.__class__, "__get__"):
            setattr(cls, attr, _dunder_calling(value))


def _dunder_calling(transform: Callable[..., Any]) -> Callable[..., Any]:
    """`@nox.jit def __call__(self, x)`: Python looks dunders up on the class and never
    wraps them in `BoundMethod`, so the class gets a plain function that passes `self`
    on, and `m(x)` costs one frame more than `transform(m, x)`."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return transform(self, *args, **kwargs)

    return functools.update_wrapper(method, transform, updated=())


def _inherited_kw_only(cls: type) -> bool:
    return next((class_info(b).kw_only for b in cls.__mro__[1:] if is_module_class(b)), False)


def _auto_init_subclass(owner: type, user: Any) -> classmethod[Any, ..., None]:
    """Subclasses of `owner` become modules, whether or not `user` (the class body's own
    `__init_subclass__`, if any) calls `super().__init_subclass__()`."""

    def __init_subclass__(cls: type[Any], **kwargs: Any) -> None:
        if user is None:
            super(owner, cls).__init_subclass__(**kwargs)  # type: ignore[arg-type]
        else:
            user.__func__(cls, **kwargs)
        if not is_module_class(cls):
            _make_module(cls, _inherited_kw_only(cls), None, auto=True)

    return classmethod(__init_subclass__)


# --------------------------------------------------------------------- public API


@overload
def module(cls: type[T], /) -> type[T]: ...
@overload
def module(*, kw_only: bool = False, name: str | None = None) -> Callable[[type[T]], type[T]]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def module(
    cls: type[T] | None = None, /, *, kw_only: bool = False, name: str | None = None
) -> type[T] | Callable[[type[T]], type[T]]:
    """Make `cls` a frozen dataclass registered as a JAX pytree with keys.

    `kw_only` is as for dataclasses; `name` fixes the name files use for the class
    (default `module:qualname`).

    Raises `nox.FieldError` for a field default that a module cannot hold.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Scale:
        ...     w: jax.Array
        ...     name: str = "scale"
        >>> Scale(jnp.ones(2)), jax.tree.leaves(Scale(jnp.ones(2)))
        (Scale(w=f32[2], name='scale'), [Array([1., 1.], dtype=float32)])
    """

    def decorate(cls: type[T]) -> type[T]:
        if Module in cls.__mro__:
            raise FieldError(MSG_DECORATED_SUBCLASS.format(cls=cls.__name__))
        _make_module(cls, kw_only, name, auto=False)
        return cls

    return decorate if cls is None else decorate(cls)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Module(abc.ABC):
    """Base-class spelling of `@nox.module`: every subclass is a module.

    Options are class keywords: `class Linear(nox.Module, kw_only=True, name="x.Linear")`.
    `isinstance(x, nox.Module)` is true for modules of either spelling.

    Raises `nox.FieldError` for field values a module cannot hold, as `@nox.module`
    does.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> class Linear(nox.Module):
        ...     w: jax.Array
        ...     b: jax.Array
        ...     def __call__(self, x):
        ...         return self.w @ x + self.b
        >>> Linear(jnp.eye(2), jnp.ones(2))(jnp.ones(2))
        Array([2., 2.], dtype=float32)
    """

    def __init_subclass__(cls, *, kw_only: bool | None = None, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        auto = kw_only is None and name is None and _has_module_base(cls)
        _make_module(cls, _inherited_kw_only(cls) if kw_only is None else kw_only, name, auto)

    def __replace__(self, **changes: Any) -> Self:
        return replace(self, **changes)


def replace(m: T, /, **changes: Any) -> T:
    """A copy of module `m` with some fields changed; `__init__` runs again.

    For a class with a custom `__init__` (whose parameters need not be fields) the
    fields are copied, changed, and checked again without calling `__init__`.

    Raises `nox.FieldError` for a name that is not a field, or a value the field
    cannot hold.

    Examples:
        >>> import noxjax as nox
        >>> @nox.module
        ... class Config:
        ...     width: int
        ...     depth: int = 2
        >>> nox.replace(Config(64), depth=4)
        Config(width=64, depth=4)
    """
    cls = type(m)
    if not is_module_class(cls):
        raise ArgumentError(f"nox.replace expects a module, got {cls.__qualname__}")
    info = class_info(cls)
    for key in changes:
        if key not in info.names:
            raise FieldError(MSG_NOT_A_FIELD.format(cls=cls.__qualname__, name=key, fields=", ".join(info.names)))
    if not info.custom_init:
        return dataclasses.replace(m, **changes)  # type: ignore[type-var]  # pyright: ignore[reportArgumentType, reportUnknownVariableType]
    fields: dict[str, Any] = vars(m)
    return from_fields(cls, {**{n: fields[n] for n in info.names}, **changes})
