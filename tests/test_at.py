"""nox.at: path-addressed reads and updates."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import noxjax as nox


class Linear(nox.Module):
    w: jax.Array
    b: jax.Array | None = None
    n: int = 1


class Model(nox.Module):
    encoder: Linear
    layers: tuple[Linear, ...]


def make() -> Model:
    return Model(Linear(jnp.ones((2, 2)), jnp.zeros(2)), (Linear(jnp.ones(1)), Linear(2 * jnp.ones(1))))


def test_get_set_apply_on_leaves() -> None:
    m = make()
    assert [x.tolist() for x in nox.at(m, "layers[*].w").get()] == [[1.0], [2.0]]
    doubled = nox.at(m, "**.w").apply(lambda x: 2 * x)
    assert isinstance(doubled, Model) and doubled.layers[1].w.tolist() == [4.0]
    assert m.layers[1].w.tolist() == [2.0]  # original unchanged
    with pytest.raises(nox.FrozenError):
        doubled.encoder = None  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    with pytest.raises(nox.PathError, match=r"names a static field of Linear.*nox\.replace\(node, n=\.\.\.\) on the Linear at \.layers\[0\]"):
        nox.at(m, "layers[0].n")
    with_bias = nox.at(m, "layers[0].b").set(jnp.zeros(1))  # None is an empty subtree, so it can be set
    assert with_bias.layers[0].b.tolist() == [0.0] and jax.tree.leaves(with_bias.layers[0]) == [with_bias.layers[0].w, with_bias.layers[0].b]


def test_set_replaces_a_whole_subtree() -> None:
    m = make()
    new = nox.at(m, "encoder").set(Linear(jnp.zeros((3, 3))))
    assert new.encoder.w.shape == (3, 3) and new.encoder.b is None
    assert nox.at(m, "layers[1]").get() == [m.layers[1]]
    assert isinstance(nox.at(m, "layers[1]").apply(lambda l: nox.replace(l, b=jnp.ones(1))).layers[1], Linear)


def test_tags_classes_predicates_and_empty_selections() -> None:
    m = make()
    assert len(nox.at(m, Linear).get()) == 4
    assert nox.at(m, lambda p, x: x.ndim == 2).get()[0].shape == (2, 2)
    assert nox.at(m, "**.missing").get() == [] and nox.at(m, "**.missing").set(1) == m


class Config(nox.Module):
    n: int = 3


def test_trees_without_leaves_name_the_root() -> None:
    with pytest.raises(nox.PathError, match=r"^'x' names no node of this dict: the deepest part that exists is the root, whose children are none\."):
        nox.at({}, "x")
    with pytest.raises(nox.PathError, match=r"^'n' names a static field of Config;.*nox\.replace\(node, n=\.\.\.\) on the Config at the root\.$"):
        nox.at(Config(), "n")


def test_predicates_select_only_the_leaves_they_accept() -> None:
    m = make()
    assert [x.tolist() for x in nox.at(m, lambda path, leaf: leaf.shape == (1,)).get()] == [[1.0], [2.0]]
    assert nox.at(m, lambda path, leaf: False).get() == []
    assert nox.at(m, nox.tag("none")).get() == []


def test_missing_path_raises_path_error_naming_it() -> None:
    m = make()
    with pytest.raises(nox.PathError, match=r"'encoder\.w2' names no node of this Model: the deepest part that exists is \.encoder, whose children are \.b, \.w"):
        nox.at(m, "encoder.w2")
    with pytest.raises(KeyError, match=r"'layers\[5\]' names no node of this Model: the deepest part that exists is \.layers, whose children are \[0\], \[1\]\."):
        nox.at(m, "layers[5]")  # a PathError is a KeyError
    with pytest.raises(nox.PathError, match=r"the deepest part that exists is the root, whose children are \.encoder, \.layers\."):
        nox.at(m, "decoder.w")
    with pytest.raises(nox.PathError, match=r"the deepest part that exists is \.layers\[1\], whose children are \.b, \.w\."):
        nox.at(m, "layers[1].w2")
    with pytest.raises(nox.PathError, match=r"the deepest part that exists is \.encoder\.w, whose children are none\."):
        nox.at(m, "encoder.w.x")
