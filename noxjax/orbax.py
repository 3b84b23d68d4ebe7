"""noxjax trees in orbax checkpoints, for multi-host jobs (extra `orbax`).

orbax writes the arrays, each process its own shards; the noxjax header (classes,
statics, hyperparameters, metadata) goes into the checkpoint's own metadata, so a
restore rebuilds the whole model without a hand-written skeleton, onto the same or
another mesh. Reading the header follows `nox.load`'s rules: nothing is imported
or executed, and a bad header is a `nox.FormatError`.

    import orbax.checkpoint as ocp
    import noxjax.orbax

    manager = ocp.CheckpointManager(directory)
    manager.save(step, args=noxjax.orbax.Save(model))
    model = manager.restore(step, args=noxjax.orbax.Restore(mesh=mesh, rules=rules))

Importing this module imports orbax; `import noxjax` never does.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from typing import Any, cast

import jax
import numpy as np
import orbax.checkpoint as _ocp  # type: ignore[import-untyped]  # pyright: ignore[reportMissingTypeStubs]
from etils import epath as _epath  # type: ignore[import-untyped]  # pyright: ignore[reportMissingTypeStubs]
from jax.sharding import Mesh

from ._checkpoint._format import array_entry, pack_body, stored_entries, unpack_header, ArrayEntry
from ._checkpoint._serialize import Placement, build_placed, encode_all
from ._errors import FormatError
from ._jaxapi import shape_dtype_struct
from ._sharding import Rules, Specs

__all__ = ["Save", "Restore", "Handler", "save", "load"]

ocp: Any = _ocp  # orbax is untyped
epath: Any = _epath


def _check_version(version: str) -> None:
    """Raise ImportError unless `version` of orbax-checkpoint is one noxjax.orbax works with."""
    numbers = re.match(r"(\d+)\.(\d+)", version)
    if numbers is None or (int(numbers[1]), int(numbers[2])) < (0, 12):
        raise ImportError(f"noxjax.orbax needs orbax-checkpoint>=0.12 (found {version}); install it with pip install 'noxjax[orbax]'")


_check_version(str(ocp.__version__))
_KEY = "noxjax"  # the header's key in orbax's custom metadata


class Handler(ocp.handlers.AsyncCheckpointHandler):  # type: ignore[misc]
    """An orbax `CheckpointHandler` for noxjax trees: orbax's standard handler for
    the arrays, with the noxjax header in the checkpoint's custom metadata.

    `Save` and `Restore` are registered with it, so `ocp.CheckpointManager` picks it
    by itself; pass it to `ocp.Checkpointer` or `ocp.AsyncCheckpointer` directly.

    Examples:
        >>> import orbax.checkpoint as ocp, noxjax.orbax
        >>> issubclass(noxjax.orbax.Handler, ocp.handlers.AsyncCheckpointHandler)
        True
    """

    def __init__(self) -> None:
        self._arrays = ocp.StandardCheckpointHandler()

    async def async_save(self, directory: Any, args: Save) -> Any:
        return await self._arrays.async_save(directory, args=_standard_save(args))

    def save(self, directory: Any, args: Save) -> None:
        self._arrays.save(directory, args=_standard_save(args))

    def restore(self, directory: Any, args: Restore | None = None) -> Any:
        options: Restore = Restore() if args is None else args
        name = str(directory)
        header = _header(self._arrays.metadata(directory), name)
        raw: list[Any] = header["arrays"]  # unpack_header checked that it is a list
        entries = [array_entry(r, i, name)[1] for i, r in enumerate(raw)]
        placement = None if options.mesh is None else Placement(options.mesh, options.rules, options.specs)

        def read(requests: list[tuple[ArrayEntry, Any]]) -> list[Any]:
            if not requests:
                return []
            index = {id(e): i for i, e in enumerate(entries)}
            abstract = {_name(index[id(e)]): shape_dtype_struct(e.shape, e.dtype, sharding=target) for e, target in requests}
            got = self._arrays.restore(directory, args=ocp.args.StandardRestore(abstract))
            return [got[_name(index[id(e)])] if target is not None else _host(got[_name(index[id(e)])]) for e, target in requests]

        return build_placed(header["tree"], entries, options.like, placement, read, name)

    def metadata(self, directory: Any) -> Any:
        return self._arrays.metadata(directory)

    def finalize(self, directory: Any) -> None:
        self._arrays.finalize(directory)

    def close(self) -> None:
        self._arrays.close()


@ocp.args.register_with_handler(Handler, for_save=True)
@dataclasses.dataclass
class Save(ocp.args.CheckpointArgs):  # type: ignore[misc]
    """Save `tree` (any tree `nox.save` takes) with JSON-like `metadata`.

    Examples:
        >>> import tempfile, jax.numpy as jnp, orbax.checkpoint as ocp, noxjax.orbax
        >>> with ocp.CheckpointManager(tempfile.mkdtemp()) as manager:
        ...     _ = manager.save(1, args=noxjax.orbax.Save({"w": jnp.ones(2)}, metadata={"lr": 0.1}))
        ...     manager.wait_until_finished()
        ...     restored = manager.restore(1, args=noxjax.orbax.Restore())
        >>> restored["w"]
        Array([1., 1.], dtype=float32)
    """

    tree: Any
    metadata: Any = None


@ocp.args.register_with_handler(Handler, for_restore=True)
@dataclasses.dataclass
class Restore(ocp.args.CheckpointArgs):  # type: ignore[misc]
    """Restore a tree saved with `Save`: with `mesh` (and `rules`/`specs`, as in
    `nox.shardings`), arrays are restored straight into those shardings; else
    with the shardings of `like=`'s leaves; else onto the default device.

    Examples:
        >>> import os, tempfile, jax, numpy as np, jax.numpy as jnp, orbax.checkpoint as ocp, noxjax.orbax
        >>> from jax.sharding import Mesh
        >>> mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
        >>> checkpointer = ocp.Checkpointer(noxjax.orbax.Handler())
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt")
        >>> checkpointer.save(path, args=noxjax.orbax.Save({"w": jnp.ones(2)}))
        >>> checkpointer.restore(path, args=noxjax.orbax.Restore(mesh=mesh))["w"].sharding.mesh == mesh
        True
    """

    like: Any = None
    mesh: Mesh | None = None
    rules: Rules | None = None
    specs: Specs | None = None


def save(directory: str | os.PathLike[str], tree: Any, metadata: Any = None) -> None:
    """Save `tree` as an orbax checkpoint in `directory` (replaced if it exists).
    Every process of a multi-host job calls it with its own shards.

    Raises `nox.SaveError` (naming the key path) for anything `nox.save` refuses.

    Examples:
        >>> import os, tempfile, jax.numpy as jnp, noxjax.orbax
        >>> directory = os.path.join(tempfile.mkdtemp(), "ckpt")
        >>> noxjax.orbax.save(directory, {"w": jnp.ones(2), "step": 3})
        >>> noxjax.orbax.load(directory)["step"]
        3
    """
    with ocp.Checkpointer(Handler()) as checkpointer:
        checkpointer.save(epath.Path(os.path.abspath(directory)), args=Save(tree, metadata), force=True)


def load(
    directory: str | os.PathLike[str], *, like: Any = None, mesh: Mesh | None = None,
    rules: Rules | None = None, specs: Specs | None = None,
) -> Any:
    """Restore what `save` (or `Save`) wrote, as `Restore` describes.

    Raises `nox.FormatError` for a checkpoint without a valid noxjax header, and
    `nox.ShardingError` for rules or specs that do not fit.

    Examples:
        >>> import os, tempfile, jax, jax.numpy as jnp, noxjax.orbax
        >>> path = os.path.join(tempfile.mkdtemp(), "run")
        >>> noxjax.orbax.save(path, {"w": jnp.ones(2)})
        >>> abstract = {"w": jax.ShapeDtypeStruct((2,), jnp.float32)}
        >>> noxjax.orbax.load(path, like=abstract)["w"]
        Array([1., 1.], dtype=float32)
    """
    with ocp.Checkpointer(Handler()) as checkpointer:
        return checkpointer.restore(epath.Path(os.path.abspath(directory)), args=Restore(like, mesh, rules, specs))


def _standard_save(args: Save) -> Any:
    """orbax's arguments for the arrays of `args.tree`, with the noxjax header."""
    tree, arrays, meta = encode_all(args.tree, args.metadata)
    stored = stored_entries(arrays)
    header = pack_body({"tree": tree, "arrays": [entry.describe() for entry in stored], "metadata": meta})
    item = {_name(i): x if entry.key_impl is None else jax.random.key_data(x) for i, ((_, x), entry) in enumerate(zip(arrays, stored))}
    item = item or {"empty": np.zeros(1, np.uint8)}  # orbax refuses to save no arrays
    return ocp.args.StandardSave(item, custom_metadata={_KEY: base64.b64encode(header).decode("ascii")})


def _name(i: int) -> str:
    return f"a{i}"


def _host(x: Any) -> np.ndarray[Any, Any]:
    """A read-only host copy or view, as every noxjax reader returns."""
    host = np.array(x)
    host.flags.writeable = False
    return host


def _header(metadata: Any, name: str) -> dict[str, Any]:
    custom: Any = getattr(metadata, "custom_metadata", None)
    text: object = cast("dict[str, object]", custom).get(_KEY) if isinstance(custom, dict) else None
    if not isinstance(text, str):
        raise FormatError(f"{name} is not a noxjax orbax checkpoint: its metadata has no {_KEY!r} header; "
                          f"save it with noxjax.orbax.save or noxjax.orbax.Save")
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise FormatError(f"{name}: the noxjax header in the orbax metadata is not valid base64") from None
    return unpack_header(data, name)
