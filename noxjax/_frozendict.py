"""`FrozenDict`: the immutable, hashable dict that dict fields become."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, cast, overload


from ._jaxapi import DictKey, register_pytree_with_keys

__all__ = ["FrozenDict", "sorted_keys"]

K = TypeVar("K")
V = TypeVar("V")


def sorted_keys(keys: Iterable[Any]) -> tuple[Any, ...]:
    """Keys in the order JAX flattens a dict: sorted, or by (type, key) when mixed."""
    keys = tuple(keys)
    try:
        return tuple(sorted(keys))
    except TypeError:
        return tuple(sorted(keys, key=lambda k: (type(k).__name__, k)))


class FrozenDict(Mapping[K, V]):
    """An immutable mapping, iterated and flattened in sorted-key order.

    Hashable when its values are; equal to any mapping with the same items.

    Examples:
        >>> import noxjax as nox
        >>> d = nox.FrozenDict({"b": 1, "a": 2})
        >>> list(d), d == {"a": 2, "b": 1}, hash(d) == hash(nox.FrozenDict({"a": 2, "b": 1}))
        (['a', 'b'], True, True)
    """

    __slots__ = ("_data", "_hash")

    _data: dict[K, V]
    _hash: int | None

    @overload
    def __init__(self, /) -> None: ...
    @overload
    def __init__(self, items: Mapping[K, V], /) -> None: ...
    @overload
    def __init__(self, items: Iterable[tuple[K, V]], /) -> None: ...
    def __init__(self, items: Any = (), /) -> None:
        data = dict(items)
        object.__setattr__(self, "_data", {k: data[k] for k in sorted_keys(data)})
        object.__setattr__(self, "_hash", None)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash(tuple(self._data.items()))
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._data == other._data  # pyright: ignore[reportUnknownMemberType]
        if isinstance(other, Mapping):
            return self._data == dict(other)  # pyright: ignore[reportUnknownArgumentType]
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FrozenDict is immutable; build a new one with `d | {...}`")

    def __or__(self, other: Mapping[K, V]) -> FrozenDict[K, V]:
        return FrozenDict({**self._data, **other})

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (self._data,))

    def unfreeze(self) -> dict[K, V]:
        """A plain, mutable dict copy."""
        return dict(self._data)


def _flatten_with_keys(d: FrozenDict[Any, Any]) -> tuple[Any, tuple[Any, ...]]:
    data = d._data  # pyright: ignore[reportPrivateUsage]
    return tuple((DictKey(k), v) for k, v in data.items()), tuple(data)


def _flatten(d: FrozenDict[Any, Any]) -> tuple[Any, tuple[Any, ...]]:
    data = d._data  # pyright: ignore[reportPrivateUsage]
    return tuple(data.values()), tuple(data)


def _unflatten(keys: tuple[Any, ...], values: Iterable[Any]) -> FrozenDict[Any, Any]:
    d = cast("FrozenDict[object, object]", object.__new__(FrozenDict))
    object.__setattr__(d, "_data", dict(zip(keys, values)))
    object.__setattr__(d, "_hash", None)
    return d


register_pytree_with_keys(FrozenDict, _flatten_with_keys, _unflatten, _flatten)
