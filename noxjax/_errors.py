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
    """Base class of every error noxjax raises on purpose."""


class FieldError(NoxError, TypeError):
    """A field value or field declaration that a module cannot hold."""


class UnknownFieldError(NoxError, AttributeError):
    """Setting a name that is not a field of the module class."""


class NotBuiltError(NoxError, AttributeError):
    """Using a module as a pytree before its `__init__` has returned."""


class ArgumentError(NoxError, TypeError, ValueError):
    """An argument that a noxjax function cannot use (wrong kind or value)."""


class GlobError(NoxError, ValueError):
    """A malformed glob passed as a `where`."""


class StructureError(NoxError, ValueError):
    """Trees whose structure or statics differ where they must agree."""


class ShardingError(NoxError, ValueError):
    """A sharding rule or spec that does not fit an array or the mesh."""


class FrozenError(NoxError, dataclasses.FrozenInstanceError):
    """Assignment to, or deletion of, an attribute of a constructed module."""


class UnhashableModuleError(NoxError, TypeError):
    """`hash()` of a module that holds arrays."""


class TracerComparisonError(NoxError, TypeError):
    """`==` between modules whose arrays are being traced."""


class FormatError(NoxError, ValueError):
    """A file or byte string that is not a valid noxjax checkpoint."""


class LabelError(NoxError, ValueError):
    """A leaf that no rule of `nox.labels` selects, and no default."""


class PathError(NoxError, KeyError):
    """A key path that does not exist in a tree."""

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
