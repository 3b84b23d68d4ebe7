"""noxjax: plain, frozen, typed dataclasses as JAX pytrees."""

from ._errors import FieldError as FieldError
from ._errors import FormatError as FormatError
from ._errors import FrozenError as FrozenError
from ._errors import NoxError as NoxError
from ._errors import PathError as PathError
from ._errors import TracerComparisonError as TracerComparisonError
from ._errors import UnhashableModuleError as UnhashableModuleError
from ._field import field as field
from ._frozendict import FrozenDict as FrozenDict
from ._method import BoundMethod as BoundMethod
from ._module import Module as Module
from ._module import is_module as is_module
from ._module import module as module
from ._module import replace as replace
from ._pytree import FieldKey as FieldKey
from ._registry import register_function as register_function
from ._sequential import Sequential as Sequential

__version__ = "0.1.0"

__all__ = [
    "BoundMethod",
    "FieldError",
    "FieldKey",
    "FormatError",
    "FrozenDict",
    "FrozenError",
    "Module",
    "NoxError",
    "PathError",
    "Sequential",
    "TracerComparisonError",
    "UnhashableModuleError",
    "field",
    "is_module",
    "module",
    "register_function",
    "replace",
]
