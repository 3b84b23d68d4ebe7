"""The `where` forms: globs, tags, classes, predicates."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from hypothesis import given
from hypothesis import strategies as st

import noxjax as nox
from noxjax._where import glob_components


class Block(nox.Module):
    w: jax.Array
    b: jax.Array = nox.field(default_factory=lambda: jnp.zeros(2), tags=("no_decay",))


class Embedding(nox.Module):
    table: jax.Array = nox.field(default_factory=lambda: jnp.ones((4, 2)))


class Model(nox.Module):
    emb: Embedding = nox.field(default_factory=Embedding, tags=("frozen",))
    body: nox.Sequential = nox.field(
        default_factory=lambda: nox.Sequential([Block(jnp.ones(2)), jax.nn.relu, Block(jnp.ones(2))])
    )
    extras: object = nox.field(default_factory=lambda: {"scale": jnp.ones(1), "pair": (Block(jnp.ones(2)), 3)})


def selected(where: nox.Where) -> list[str]:
    return nox.paths(nox.filter(Model(), where))


def test_paths_are_keystr() -> None:
    assert nox.paths(Model()) == [
        ".emb.table",
        ".body.layers[0].w",
        ".body.layers[0].b",
        ".body.layers[2].w",
        ".body.layers[2].b",
        ".extras['pair'][0].w",
        ".extras['pair'][0].b",
        ".extras['scale']",
    ]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("**.w", [".body.layers[0].w", ".body.layers[2].w", ".extras['pair'][0].w"]),
        ("body.layers[*].w", [".body.layers[0].w", ".body.layers[2].w"]),
        (".body.layers[2].b", [".body.layers[2].b"]),
        ("body.layers[2]", [".body.layers[2].w", ".body.layers[2].b"]),
        ("body.**", [".body.layers[0].w", ".body.layers[0].b", ".body.layers[2].w", ".body.layers[2].b"]),
        ("*.table", [".emb.table"]),
        ("extras['scale']", [".extras['scale']"]),
        ("extras[*][0].b", [".extras['pair'][0].b"]),
        ("**", nox.paths(Model())),
        ("nothing.here", []),
        ("body.layers[1]", []),
    ],
)
def test_globs(glob: str, expected: list[str]) -> None:
    assert selected(glob) == expected


def test_tags_and_classes() -> None:
    assert selected(nox.tag("frozen")) == [".emb.table"]
    assert selected(nox.tag("no_decay")) == [".body.layers[0].b", ".body.layers[2].b", ".extras['pair'][0].b"]
    assert selected(Embedding) == [".emb.table"]
    assert len(selected(Block)) == 6
    assert selected(nox.tag("absent")) == []


def test_predicates_see_path_and_leaf() -> None:
    big = selected(lambda path, leaf: leaf.ndim == 2)
    assert big == [".emb.table"]
    tail = selected(lambda path, leaf: isinstance(path[-1], nox.FieldKey) and path[-1].owner is Block and path[-1].name == "w")
    assert len(tail) == 3


@pytest.mark.parametrize(
    ("glob", "offset"),
    [("layers[", 6), ("a..b", 1), ("a[-1]", 1), ("a b", 1), ("[x]", 0), ("a*", 1), ("a[1", 1)],
)
def test_malformed_globs(glob: str, offset: int) -> None:
    with pytest.raises(ValueError, match=rf"malformed glob .* at offset {offset}"):
        glob_components(glob)


def test_malformed_glob_points_at_the_offset() -> None:
    with pytest.raises(nox.GlobError) as info:
        glob_components("ab..c")
    assert str(info.value).endswith("\n    ab..c\n      ^")


def test_negative_index_message() -> None:
    with pytest.raises(ValueError, match="negative indices are not supported"):
        nox.filter(Model(), "body.layers[-1]")


def test_bad_where_type() -> None:
    with pytest.raises(TypeError, match="a where is a glob"):
        nox.filter(Model(), 3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError, match="tag name"):
        nox.tag(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


names = st.from_regex(r"[a-z_][a-z0-9_]{0,4}", fullmatch=True)
components = st.one_of(
    names.map(lambda n: "." + n),
    st.integers(0, 20).map(lambda i: f"[{i}]"),
    names.map(lambda n: f"[{n!r}]"),
    st.sampled_from([".*", "[*]", ".**"]),
)


@given(st.lists(components, min_size=1, max_size=5))
def test_keystr_forms_parse(parts: list[str]) -> None:
    glob = "".join(parts)
    assert len(glob_components(glob)) == len(parts)
    assert len(glob_components(glob.lstrip("."))) == len(parts)
