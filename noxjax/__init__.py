"""noxjax: plain, frozen, typed dataclasses as JAX pytrees."""

from ._at import At as At
from ._at import at as at
from ._errors import ArgumentError as ArgumentError
from ._errors import FieldError as FieldError
from ._errors import FormatError as FormatError
from ._errors import FrozenError as FrozenError
from ._errors import GlobError as GlobError
from ._errors import LabelError as LabelError
from ._errors import NotBuiltError as NotBuiltError
from ._errors import NoxError as NoxError
from ._errors import PathError as PathError
from ._errors import ShardingError as ShardingError
from ._errors import StructureError as StructureError
from ._errors import TracerComparisonError as TracerComparisonError
from ._errors import UnhashableModuleError as UnhashableModuleError
from ._errors import UnknownFieldError as UnknownFieldError
from ._equality import tree_equal as tree_equal
from ._field import field as field
from ._filtering import combine as combine
from ._filtering import filter as filter
from ._filtering import labeler as labeler
from ._filtering import labels as labels
from ._filtering import map_where as map_where
from ._filtering import partition as partition
from ._filtering import paths as paths
from ._frozendict import FrozenDict as FrozenDict
from ._jit import Jit as Jit
from ._jit import jit as jit
from ._jit import set_cache_size as set_cache_size
from ._method import BoundMethod as BoundMethod
from ._module import Module as Module
from ._module import module as module
from ._module import replace as replace
from ._pytree import FieldKey as FieldKey
from ._registry import register_function as register_function
from ._repr import summary as summary
from ._sequential import Sequential as Sequential
from ._static import is_array as is_array
from ._static import is_inexact_array as is_inexact_array
from ._static import is_module as is_module
from ._sharding import shard as shard
from ._sharding import shardings as shardings
from ._stack import Scan as Scan
from ._stack import stack as stack
from ._stack import unstack as unstack
from ._transforms import Grad as Grad
from ._transforms import Remat as Remat
from ._transforms import ValueAndGrad as ValueAndGrad
from ._transforms import VMap as VMap
from ._transforms import grad as grad
from ._transforms import remat as remat
from ._transforms import value_and_grad as value_and_grad
from ._transforms import vmap as vmap
from ._checkpoint import FileInfo as FileInfo
from ._checkpoint import SaveError as SaveError
from ._checkpoint import dumps as dumps
from ._checkpoint import inspect as inspect
from ._checkpoint import load as load
from ._checkpoint import loads as loads
from ._checkpoint import save as save
from ._where import Tag as Tag
from ._where import Where as Where
from ._where import tag as tag

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "At",
    "BoundMethod",
    "FileInfo",
    "FieldError",
    "FieldKey",
    "FormatError",
    "FrozenDict",
    "FrozenError",
    "GlobError",
    "Grad",
    "Jit",
    "LabelError",
    "Module",
    "NotBuiltError",
    "NoxError",
    "PathError",
    "Remat",
    "SaveError",
    "Scan",
    "Sequential",
    "ShardingError",
    "StructureError",
    "Tag",
    "TracerComparisonError",
    "UnhashableModuleError",
    "UnknownFieldError",
    "VMap",
    "ValueAndGrad",
    "Where",
    "at",
    "combine",
    "dumps",
    "field",
    "filter",
    "grad",
    "inspect",
    "is_array",
    "is_inexact_array",
    "is_module",
    "jit",
    "labeler",
    "labels",
    "load",
    "loads",
    "map_where",
    "module",
    "partition",
    "paths",
    "register_function",
    "remat",
    "replace",
    "save",
    "set_cache_size",
    "shard",
    "shardings",
    "stack",
    "summary",
    "tag",
    "tree_equal",
    "unstack",
    "value_and_grad",
    "vmap",
]
