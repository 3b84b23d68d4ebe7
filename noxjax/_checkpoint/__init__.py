"""Checkpoints: every line of noxjax that reads bytes from a file lives in this package.

`_codec` turns trees into msgpack-ready nodes and back (one table of node tags,
`_tags`, shared with `_outline`); `_format` is the native file and `_npz` the NumPy
archive, both validating array entries with `_format.array_entry`; `_serialize`
is the public API.
"""

from ._codec import SaveError as SaveError
from ._serialize import FileInfo as FileInfo
from ._serialize import dumps as dumps
from ._serialize import inspect as inspect
from ._serialize import load as load
from ._serialize import loads as loads
from ._serialize import save as save

__all__ = ["SaveError", "FileInfo", "dumps", "inspect", "load", "loads", "save"]
