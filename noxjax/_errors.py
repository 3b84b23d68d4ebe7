"""The error hierarchy: one base, each subclass also a builtin a user would catch."""

from __future__ import annotations

import dataclasses

__all__ = [
    "NoxError",
    "FieldError",
    "FrozenError",
    "UnhashableModuleError",
    "TracerComparisonError",
    "FormatError",
    "PathError",
    "LabelError",
    "UnknownFieldError",
    "NotBuiltError",
    "ArgumentError",
    "GlobError",
    "StructureError",
    "ShardingError",
]


class NoxError(Exception):
    """Base class of every error noxjax raises on purpose; each subclass also derives
    from the builtin exception a user would catch.

    Examples:
        >>> import noxjax as nox
        >>> issubclass(nox.FormatError, nox.NoxError) and issubclass(nox.FormatError, ValueError)
        True
    """


class FieldError(NoxError, TypeError):
    """A field value or field declaration that a module cannot hold (a `TypeError`).

    Raised by module construction and `nox.field`; the message names the field.

    Examples:
        >>> import noxjax as nox
        >>> nox.field(static="yes")
        Traceback (most recent call last):
        noxjax._errors.FieldError: field(static=...) takes None, True or False, got 'yes'
    """


class UnknownFieldError(NoxError, AttributeError):
    """Setting a name that is not a field of the module class (an `AttributeError`).

    Raised in `__init__`; declare the field in the class body.

    Examples:
        >>> import noxjax as nox
        >>> @nox.module
        ... class Point:
        ...     x: int
        ...     def __init__(self, x):
        ...         self.x = x
        ...         self.y = 2 * x
        >>> Point(1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.UnknownFieldError: Point has no field 'y'; its fields are: x...
    """


class NotBuiltError(NoxError, AttributeError):
    """Using a module as a pytree before its `__init__` has returned (an
    `AttributeError`): flattening `self` inside `__init__`. Work on the values being
    assigned, or after construction.

    Examples:
        >>> import jax, noxjax as nox
        >>> @nox.module
        ... class Half:
        ...     x: int
        ...     def __init__(self, x):
        ...         self.x = x
        ...         jax.tree.leaves(self)
        >>> Half(1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.NotBuiltError: Half is not built yet: ...
    """


class ArgumentError(NoxError, TypeError, ValueError):
    """An argument that a noxjax function cannot use, of the wrong kind or value
    (both a `TypeError` and a `ValueError`).

    Examples:
        >>> import noxjax as nox
        >>> nox.tag(3)
        Traceback (most recent call last):
        noxjax._errors.ArgumentError: nox.tag expects a tag name (str), got 3
    """


class GlobError(NoxError, ValueError):
    """A malformed glob passed as a `where` (a `ValueError`); the message points at
    the offset.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.filter({"w": jnp.ones(2)}, "w[")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.GlobError: malformed glob 'w[' at offset 1: ...
    """


class StructureError(NoxError, ValueError):
    """Trees whose structure or statics differ where they must agree (a
    `ValueError`), as in `nox.combine` or `nox.stack`.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.combine({"a": jnp.ones(1)}, {"b": jnp.ones(1)})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.StructureError: nox.combine: tree 1 has another structure than tree 0 ...
    """


class ShardingError(NoxError, ValueError):
    """A sharding rule or spec that does not fit an array or the mesh (a
    `ValueError`), raised by `nox.shardings`, `nox.shard` and `nox.load(mesh=...)`
    with the key path, shape and spec.

    Examples:
        >>> import jax, jax.numpy as jnp, numpy as np, noxjax as nox
        >>> from jax.sharding import Mesh, PartitionSpec as P
        >>> mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
        >>> nox.shardings({"x": jnp.ones(2)}, mesh, specs={"['x']": P("model")})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.ShardingError: ['x']: PartitionSpec('model') does not fit ...: the mesh has no axis 'model' ...
    """


class FrozenError(NoxError, dataclasses.FrozenInstanceError):
    """Assignment to, or deletion of, an attribute of a constructed module (a
    `dataclasses.FrozenInstanceError`); build a changed copy with `nox.replace`.

    Examples:
        >>> import noxjax as nox
        >>> @nox.module
        ... class Point:
        ...     x: int
        >>> p = Point(1)
        >>> p.x = 2  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.FrozenError: cannot assign to field 'x' of Point: modules are immutable...
    """


class UnhashableModuleError(NoxError, TypeError):
    """`hash()` of a module that holds arrays (a `TypeError`): pass such a module as
    a traced argument, not a static one.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Scale:
        ...     w: jnp.ndarray
        >>> hash(Scale(jnp.ones(2)))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.UnhashableModuleError: Scale holds arrays (at .w), so it has no hash...
    """


class TracerComparisonError(NoxError, TypeError):
    """`==` between modules whose arrays are being traced (a `TypeError`); compare
    with `nox.tree_equal`, which returns a traced bool.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.module
        ... class Scale:
        ...     w: jax.Array
        >>> jax.jit(lambda a, b: a == b)(Scale(jnp.ones(2)), Scale(jnp.zeros(2)))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.TracerComparisonError: cannot compare Scale instances with `==` while .w is traced...
    """


class FormatError(NoxError, ValueError):
    """A file or byte string that is not a valid noxjax checkpoint, or that does not
    match `like=` (a `ValueError`); the message names the key path or byte offset.

    Examples:
        >>> import noxjax as nox
        >>> nox.loads(b"a text file, not a checkpoint")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.FormatError: the data is not a noxjax file: it starts with ...
    """


class LabelError(NoxError, ValueError):
    """A leaf that no rule of `nox.labels` selects, and no default (a `ValueError`).

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.labels({"w": jnp.ones(1), "b": jnp.ones(1)}, {"decay": "['w']"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.LabelError: the leaf at ['b'] matches none of the rules ['decay']; add a rule ...
    """


class PathError(NoxError, KeyError):
    """A key path that does not exist in a tree (a `KeyError`), from `nox.at`.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.at({"w": jnp.ones(1)}, "['v']").get()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        noxjax._errors.PathError: ...
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


MSG_ASSIGN = """cannot {verb} field {name!r} of {cls}: modules are immutable.
Build a modified copy instead:

    m.{name} = value                  # wrong
    m = nox.replace(m, {name}=value)  # right
"""

MSG_NOT_A_FIELD = """{cls} has no field {name!r}; its fields are: {fields}.
Declare every attribute in the class body, for example:

    class {cls}(nox.Module):
        {name}: int
"""

MSG_UNHASHABLE = """{cls} holds arrays (at {paths}), so it has no hash.
Only array-free modules are hashable. Pass the module as a regular (traced)
argument instead of a static one:

    jax.jit(f, static_argnums=0)(m, x)   # wrong
    jax.jit(f)(m, x)                     # right
"""

MSG_NOT_BUILT = """{cls} is not built yet: its __init__ has not returned, so it is not a
pytree yet and cannot be flattened. Use the values you are assigning instead, or do
the work after construction, for example in a classmethod:

    def __init__(self, w):
        self.w = w
        n = len(jax.tree.leaves(self))     # wrong: self is half-built

    @classmethod
    def init(cls, w):
        m = cls(w)
        n = len(jax.tree.leaves(m))        # right
"""

MSG_TRACED_EQ = """cannot compare {cls} instances with `==` while {path} is traced:
the result would depend on runtime values. Compare the arrays inside the trace
instead, e.g. `jnp.array_equal(a{path}, b{path})`, or compare outside jit.
"""
