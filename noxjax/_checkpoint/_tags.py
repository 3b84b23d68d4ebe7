"""The node tags of a checkpoint header: the `"t"` of every map in the tree.

The encoder writes them, the decoder dispatches on them and `inspect` renders them;
this is the one table all three share. docs/format.md gives each tag's keys.
"""

from __future__ import annotations

from typing import Final

ARRAY: Final = "a"
TUPLE: Final = "tuple"
LIST: Final = "list"
DICT: Final = "dict"
FROZEN_DICT: Final = "fdict"
MODULE: Final = "m"
METHOD: Final = "bm"
FUNCTION: Final = "fn"
DTYPE: Final = "dtype"
MODULE_CLASS: Final = "cls"
SCALAR_TYPE: Final = "stype"
BIG_INT: Final = "int"
COMPLEX: Final = "complex"
NODE: Final = "node"
NAMEDTUPLE: Final = "nt"
PARTIAL: Final = "partial"

TAGS: Final = frozenset(
    {ARRAY, TUPLE, LIST, DICT, FROZEN_DICT, MODULE, METHOD, FUNCTION, DTYPE, MODULE_CLASS, SCALAR_TYPE, BIG_INT,
     COMPLEX, NODE, NAMEDTUPLE, PARTIAL}
)
