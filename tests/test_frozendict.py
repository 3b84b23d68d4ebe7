"""nox.FrozenDict."""

from __future__ import annotations

from typing import Any

import jax
import pytest
from hypothesis import given
from hypothesis import strategies as st

import noxjax as nox


def test_immutable_sorted_hashable() -> None:
    d = nox.FrozenDict({"b": 1, "a": 2})
    assert list(d) == ["a", "b"] and d["a"] == 2 and len(d) == 2 and "a" in d
    assert d == {"a": 2, "b": 1} and hash(d) == hash(nox.FrozenDict(a=2, b=1) if False else nox.FrozenDict({"a": 2, "b": 1}))
    with pytest.raises(TypeError):
        d["c"] = 3  # type: ignore[index]  # pyright: ignore[reportIndexIssue]
    with pytest.raises(AttributeError, match="immutable"):
        d.x = 1  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    assert (d | {"c": 3})["c"] == 3 and d.unfreeze() == {"a": 2, "b": 1}
    assert repr(d) == "FrozenDict({'a': 2, 'b': 1})"


def test_pytree_keys_match_dict() -> None:
    d = nox.FrozenDict({"b": 1, "a": 2})
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(d)]
    assert paths == ["['a']", "['b']"]
    assert jax.tree.map(lambda x: x * 10, d) == {"a": 20, "b": 10}


@given(st.dictionaries(st.text(max_size=4) | st.integers(), st.integers(), max_size=6))
def test_round_trip_matches_dict(data: dict[Any, int]) -> None:
    d = nox.FrozenDict(data)
    assert d == data and dict(d) == data
    leaves = jax.tree.leaves(d)
    assert sorted(leaves) == sorted(data.values())
    assert jax.tree.map(lambda x: x, d) == d
