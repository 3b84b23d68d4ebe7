"""`LRU`: the bounded, thread-safe cache every noxjax cache is made of."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from ._errors import ArgumentError

__all__ = ["LRU"]

V = TypeVar("V")


class LRU(Generic[V]):
    """A mapping of at most `size` entries that drops the least recently used.

    Reads and writes hold one lock, so threads that share a cache never see an
    entry vanish between a lookup and its reordering.
    """

    __slots__ = ("_data", "_lock", "_size")

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.resize(size)

    @property
    def size(self) -> int:
        return self._size

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            self._evict()
        return value

    def resize(self, size: int) -> None:
        """Keep at most `size` entries from now on; raises ArgumentError if `size < 1`."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ArgumentError(f"a cache size is an int of at least 1, got {size!r}")
        with self._lock:
            self._size = size
            self._evict()

    def _evict(self) -> None:
        while len(self._data) > self._size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


