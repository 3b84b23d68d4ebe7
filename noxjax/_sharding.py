"""Sharding rules: from field axes, `rules` and `specs` to `NamedSharding`s.

Each array leaf gets one `PartitionSpec`: the first `specs` entry whose `where`
selects it, else the logical `axes` of its field (`nox.field(axes=...)`) mapped
through `rules`, else replicated. Every spec is checked against the mesh and the
array's shape here, so a bad rule fails naming the key path instead of deep in XLA.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Union, cast

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._errors import ShardingError
from ._jaxapi import KeyPath, PyTreeDef, device_put, keystr, partition_spec, shape_dtype_struct, tree_flatten_with_path
from ._pytree import FieldKey
from ._static import is_array
from ._where import Where, compile_where

__all__ = ["Rules", "Specs", "shardings", "leaf_shardings", "shard"]

MeshAxes = Union[str, tuple[str, ...], None]
Rules = Mapping[str, MeshAxes]
Specs = Mapping[Where, PartitionSpec]
_REPLICATED: PartitionSpec = partition_spec()


def _specs(tree: Any, rules: Rules | None, specs: Specs | None) -> tuple[list[tuple[KeyPath, Any, PartitionSpec]], PyTreeDef]:
    """Each leaf of `tree` with its path and its unchecked `PartitionSpec`."""
    matchers = [(compile_where(where), spec) for where, spec in (specs or {}).items()]
    leaves, treedef = tree_flatten_with_path(tree)
    used: set[int] = set()
    out = [(path, leaf, _spec(path, leaf, matchers, rules or {}, used)) for path, leaf in leaves]
    unused = [where for i, (where, _) in enumerate((specs or {}).items()) if i not in used]
    if unused and leaves:
        shown = ", ".join(keystr(path) or "the root" for path, _ in leaves[:3])
        raise ShardingError(
            f"specs entry {unused[0]!r} decides no array's spec (it selects none, or only arrays an earlier entry "
            f"took); the leaves' paths look like {shown}. "
            f"Globs match whole paths: a dict key is ['key'], an attribute .name, any prefix **"
        )
    return out, treedef


def _spec(path: KeyPath, leaf: Any, matchers: list[tuple[Any, PartitionSpec]], rules: Rules, used: set[int]) -> PartitionSpec:
    for i, (matcher, spec) in enumerate(matchers):
        if matcher(path, leaf):
            used.add(i)
            return _as_spec(spec, path)
    axes = _field_axes(path)
    if axes is None or not is_array(leaf):
        return _REPLICATED
    if len(axes) != len(leaf.shape):
        raise ShardingError(
            f"{_where(path)}: the field declares axes {axes} ({len(axes)} dimensions), but the array has shape "
            f"{tuple(leaf.shape)}; give one axis name (or None) per dimension, or pass specs= for it"
        )
    mapped: PartitionSpec = partition_spec(*(rules.get(name) if name is not None else None for name in axes))
    return mapped


def _field_axes(path: KeyPath) -> tuple[str | None, ...] | None:
    """The `axes` of the innermost field on `path`, if it declares any."""
    for key in reversed(path):
        if isinstance(key, FieldKey):
            axes: tuple[str | None, ...] | None = key.metadata.get("axes")
            return axes
    return None


def _as_spec(spec: object, path: KeyPath) -> PartitionSpec:
    if not isinstance(spec, PartitionSpec):
        raise ShardingError(f"{_where(path)}: specs= maps a where to a PartitionSpec, got {spec!r}")
    return spec


def shardings(tree: Any, mesh: Mesh, rules: Rules | None = None, specs: Specs | None = None) -> Any:
    """The `NamedSharding` of every leaf of `tree` on `mesh`, for `jax.jit` or
    `nox.Jit` `in_shardings`/`out_shardings`, `jax.device_put` and `nox.load`.

    A leaf's spec is the first `specs` entry whose `where` (a glob, tag, class or
    predicate, as in `nox.filter`) selects it; else its field's `axes` mapped
    through `rules` (logical axis name -> mesh axis name, tuple of names, or None;
    an unmapped name is replicated); else `PartitionSpec()` (replicated). Leaves
    that are not arrays are replicated.

    Raises `nox.ShardingError`, naming the key path, shape and spec, for a mesh axis
    the mesh lacks, a spec longer than the array's rank, a dimension the mesh axes do
    not divide, a mesh axis used twice, or field axes of the wrong length.

    Examples:
        >>> import jax, jax.numpy as jnp, numpy as np, noxjax as nox
        >>> from jax.sharding import Mesh, PartitionSpec as P
        >>> @nox.module
        ... class Dense:
        ...     w: jax.Array = nox.field(axes=("embed", "hidden"))
        ...     b: jax.Array = nox.field(axes=("hidden",))
        >>> mesh = Mesh(np.array(jax.devices()[:1]), ("model",))
        >>> nox.shardings(Dense(jnp.ones((4, 8)), jnp.ones(8)), mesh, rules={"hidden": "model"}).w.spec == P(None, "model")
        True
    """
    placed, treedef = leaf_shardings(tree, mesh, rules, specs)
    return treedef.unflatten([sharding for _, sharding in placed])


def leaf_shardings(
    tree: Any, mesh: Mesh, rules: Rules | None = None, specs: Specs | None = None
) -> tuple[list[tuple[Any, NamedSharding]], PyTreeDef]:
    """Each leaf of `tree` with its checked sharding, in flattening order, and the treedef."""
    leaves, treedef = _specs(tree, rules, specs)
    return [(leaf, _checked(mesh, spec, getattr(leaf, "shape", ()), path)) for path, leaf, spec in leaves], treedef


def _checked(mesh: Mesh, spec: PartitionSpec, shape: Sequence[int], path: KeyPath) -> NamedSharding:
    sizes = dict(zip(mesh.axis_names, mesh.devices.shape))
    used: set[str] = set()
    problem = None
    if len(spec) > len(shape):
        problem = f"it has {len(spec)} entries but the array has {len(shape)} dimensions"
    for dim, entry in enumerate(spec):
        names = _mesh_axes(entry)
        if names is None:
            problem = problem or f"entry {entry!r} is not a mesh axis name, a tuple of names, or None"
            continue
        unknown = [n for n in names if n not in sizes]
        twice = [n for n in names if n in used]
        used.update(names)
        if problem is None and unknown:
            problem = f"the mesh has no axis {unknown[0]!r} (its axes: {sizes})"
        elif problem is None and twice:
            problem = f"mesh axis {twice[0]!r} is used twice"
        elif problem is None and dim < len(shape):
            ways = math.prod(sizes[n] for n in names)
            if shape[dim] % ways:
                problem = f"dimension {dim} of size {shape[dim]} is not divisible by {ways} (mesh axes {names})"
    if problem is not None:
        raise ShardingError(
            f"{_where(path)}: PartitionSpec({', '.join(map(repr, spec))}) does not fit the array of shape {tuple(shape)}: {problem}; "
            f"change the rule or pass specs= for this path"
        )
    return NamedSharding(mesh, spec)


def _mesh_axes(entry: object) -> tuple[str, ...] | None:
    """A spec entry as mesh axis names, or None if it is not a name, tuple of names or None."""
    if entry is None:
        return ()
    if isinstance(entry, str):
        return (entry,)
    if isinstance(entry, tuple) and all(isinstance(n, str) for n in cast("tuple[object, ...]", entry)):
        return cast("tuple[str, ...]", entry)
    return None


def _where(path: KeyPath) -> str:
    return keystr(path) or "the root"


def shard(tree: Any, mesh: Mesh, rules: Rules | None = None, specs: Specs | None = None) -> Any:
    """`tree` with each array placed with its `nox.shardings(tree, mesh, rules, specs)`
    sharding (a `jax.ShapeDtypeStruct` gets the sharding attached); other leaves
    are left as they are.

    Raises `nox.ShardingError` as `nox.shardings` does.

    Examples:
        >>> import jax, jax.numpy as jnp, numpy as np, noxjax as nox
        >>> from jax.sharding import Mesh, PartitionSpec as P
        >>> mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
        >>> nox.shard({"x": jnp.ones((4, 2))}, mesh, specs={"['x']": P("data")})["x"].sharding.spec == P("data")
        True
    """
    placed, treedef = leaf_shardings(tree, mesh, rules, specs)
    out = [leaf for leaf, _ in placed]
    targets = [sharding for _, sharding in placed]
    arrays = [i for i, x in enumerate(out) if is_array(x) and not isinstance(x, jax.ShapeDtypeStruct)]
    for i, x in enumerate(out):
        if isinstance(x, jax.ShapeDtypeStruct):
            out[i] = shape_dtype_struct(x.shape, x.dtype, sharding=targets[i])
    for i, x in zip(arrays, device_put([out[i] for i in arrays], [targets[i] for i in arrays]) if arrays else []):
        out[i] = x
    return treedef.unflatten(out)
