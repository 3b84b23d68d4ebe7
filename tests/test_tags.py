"""One table of node tags for the encoder, the decoder and inspect (noxjax/_checkpoint/_tags.py)."""

from __future__ import annotations

import collections
import functools
from typing import Any

import jax
import jax.numpy as jnp

import ckpt_models
import noxjax as nox
from noxjax._checkpoint import _tags as tags
from noxjax._checkpoint._codec import _DECODERS, encode
from noxjax._checkpoint._outline import outline

Point = collections.namedtuple("Point", ["x", "y"])

EXAMPLES: dict[str, Any] = {
    tags.ARRAY: {"t": "a", "i": 0},
    tags.TUPLE: {"t": "tuple", "v": [1]},
    tags.LIST: {"t": "list", "v": [1, 2]},
    tags.DICT: {"t": "dict", "k": ["a"], "v": [1]},
    tags.FROZEN_DICT: {"t": "fdict", "k": ["a"], "v": [1]},
    tags.MODULE: {"t": "m", "c": "tests.Leaf", "f": {"w": 1, "note": None}},
    tags.METHOD: {"t": "bm", "c": "tests.Leaf", "n": "double", "s": 1},
    tags.FUNCTION: {"t": "fn", "v": "jax.nn.relu"},
    tags.DTYPE: {"t": "dtype", "v": "float32"},
    tags.MODULE_CLASS: {"t": "cls", "v": "tests.Leaf"},
    tags.SCALAR_TYPE: {"t": "stype", "ns": "jnp", "v": "float32"},
    tags.BIG_INT: {"t": "int", "v": "1" * 30},
    tags.COMPLEX: {"t": "complex", "v": [1.0, 2.0]},
    tags.NODE: {"t": "node", "c": "pkg:Node", "k": [".a"], "v": [1]},
    tags.NAMEDTUPLE: {"t": "nt", "c": "test_tags:Point", "k": ["x", "y"], "v": [1, 2]},
    tags.PARTIAL: {"t": "partial", "f": {"t": "fn", "v": "jax.nn.relu"}, "a": {"t": "tuple", "v": []}, "k": {"t": "dict", "k": [], "v": []}},
}


def _tags_in(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {node["t"]} | {t for v in node.values() for t in _tags_in(v)} if "t" in node else {t for v in node.values() for t in _tags_in(v)}
    if isinstance(node, list):
        return {t for v in node for t in _tags_in(v)}
    return set()


def test_the_decoder_and_inspect_know_exactly_the_tags_of_the_table() -> None:
    assert set(_DECODERS) == tags.TAGS == set(EXAMPLES)
    for tag, node in EXAMPLES.items():
        assert node["t"] == tag and "<?>" not in outline(node, ["f32[2]"]), tag


def test_the_encoder_writes_only_tags_of_the_table() -> None:
    model = ckpt_models.build()
    extra = (Point(1, 2), functools.partial(jax.nn.leaky_relu, negative_slope=0.1), nox.FrozenDict({"k": 1}),
             jnp.float32, 10**30, 1 + 2j, ckpt_models.Leaf, ckpt_models.Leaf(jnp.ones(1)).double)
    tree, _, _ = encode({"model": model, "extra": extra})
    assert _tags_in(tree) <= tags.TAGS and len(_tags_in(tree)) >= 14
