"""Every exception noxjax raises derives from nox.NoxError and the builtin a user would catch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import pytest

import noxjax as nox
from noxjax._lru import LRU


class Pair(nox.Module):
    a: jax.Array
    n: int = 1


class Opaque(nox.Module):
    v: Any = nox.field(static=True)


def pair() -> Pair:
    return Pair(jnp.ones(2))


CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    ("malformed glob", lambda: nox.filter(pair(), "a..b"), ValueError, r"malformed glob 'a\.\.b' at offset"),
    ("where of a bad kind", lambda: nox.filter(pair(), 3), TypeError, "a where is a glob"),  # type: ignore[arg-type]
    ("tag not a str", lambda: nox.tag(3), TypeError, "tag name"),  # type: ignore[arg-type]
    ("combine nothing", lambda: nox.combine(), TypeError, "at least one tree"),
    ("combine mismatch", lambda: nox.combine(pair(), (1,)), ValueError, "tree 1 has another structure"),
    ("stack nothing", lambda: nox.stack([]), ValueError, "at least one module"),
    ("stack mismatch", lambda: nox.stack([pair(), Pair(jnp.ones(2), 2)]), ValueError, r"module 1 differs from module 0 at \.n"),
    ("unstack scalars", lambda: nox.unstack(Pair(jnp.ones(()))), ValueError, "disagree on the leading axis"),
    ("cache size", lambda: nox.set_cache_size(0), ValueError, "at least 1"),
    ("replace a non-module", lambda: nox.replace(3), TypeError, "expects a module"),
    ("unhashable static argument", lambda: nox.jit(lambda x, s: x)(jnp.ones(1), {1}), TypeError, r"args\[1\] = \{1\}"),
    ("in_shardings count", lambda: nox.Jit(lambda x: x, in_shardings=(None, None))(jnp.ones(1)), ValueError, "2 entries for 1 positional"),
    ("assign a field", lambda: setattr(pair(), "a", 1), AttributeError, "nox.replace"),
    ("assign a non-field", lambda: setattr(pair(), "z", 1), AttributeError, "Pair has no field 'z'; its fields are: a, n"),
    ("bad field value", lambda: Pair(lambda: 0), TypeError, "cannot be a field value"),
    ("hash with arrays", lambda: hash(pair()), TypeError, "holds arrays"),
    ("labels without default", lambda: nox.labels(pair(), {}), ValueError, "matches none of the rules"),
    ("missing path", lambda: nox.at(pair(), "b").get(), KeyError, "names no node"),
    ("bad file", lambda: nox.loads(b"nope"), ValueError, "too short for a noxjax file"),
    ("unsavable", lambda: nox.dumps(Opaque(object())), ValueError, r"cannot save \.v = <object"),
]


@pytest.mark.parametrize(("what", "call", "builtin", "message"), CASES, ids=[c[0] for c in CASES])
def test_errors_derive_from_nox_error_and_the_builtin(what: str, call: Callable[[], Any], builtin: type[BaseException], message: str) -> None:
    with pytest.raises(nox.NoxError, match=message) as info:
        call()
    assert isinstance(info.value, builtin)


def test_error_classes_are_exported_with_their_builtins() -> None:
    assert issubclass(nox.ArgumentError, TypeError) and issubclass(nox.ArgumentError, ValueError)
    assert issubclass(nox.GlobError, ValueError) and issubclass(nox.StructureError, ValueError)
    assert issubclass(nox.UnknownFieldError, AttributeError) and issubclass(nox.NotBuiltError, AttributeError)
    assert issubclass(nox.SaveError, nox.FormatError)
    for name in nox.__all__:
        obj = getattr(nox, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, nox.NoxError), name


def test_the_lru_survives_threads_that_evict_each_other() -> None:
    cache: LRU[int] = LRU(4)
    errors: list[BaseException] = []

    def hammer(offset: int) -> None:
        try:
            for i in range(3000):
                key = (offset + i) % 9
                if cache.get(key) is None:
                    cache.put(key, i + 1)
        except BaseException as e:  # noqa: BLE001 - any error fails the test
            errors.append(e)

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(cache) <= 4


def test_set_cache_size_resizes_only_the_compile_cache() -> None:
    from noxjax import _filtering, _jit

    try:
        nox.set_cache_size(2)
        assert _jit._CACHE.size == 2  # pyright: ignore[reportPrivateUsage]
        assert _jit._DONATED.size == 1024 and _filtering._MASKS.size == 1024  # pyright: ignore[reportPrivateUsage]
    finally:
        nox.set_cache_size(4096)


def test_lru_drops_the_least_recently_used() -> None:
    cache: LRU[str] = LRU(2)
    cache.put("a", "1")
    cache.put("b", "2")
    assert cache.get("a") == "1"
    cache.put("c", "3")
    assert "b" not in cache and cache.get("a") == "1" and cache.get("c") == "3"
    cache.resize(1)
    assert len(cache) == 1 and "c" in cache
    with pytest.raises(nox.ArgumentError, match="at least 1"):
        cache.resize(True)
