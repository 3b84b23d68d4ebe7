"""`nox.inspect`'s rendering of a file's tree (noxjax/_checkpoint/_outline.py):
the exact text, from the header alone."""

from __future__ import annotations

import collections
from pathlib import Path

import jax
import jax.numpy as jnp

import noxjax as nox
from models import Linear

Pt = collections.namedtuple("Pt", "x y")


def test_the_tree_renders_exactly(tmp_path: Path) -> None:
    tree = {
        "model": Linear(jnp.ones((2, 3)), jnp.zeros(2)),
        "opt": (Pt(jnp.zeros(2, jnp.bfloat16), 3), None, (jnp.ones(1),)),
        "cfg": {"lr": 0.1, "names": ["a", "b"], 5: True, "empty": [], "nested": {}},
        "long": list(range(24)),  # one line up to 88 characters past the indent
        "frozen": nox.FrozenDict({"b": 1.5, "a": "x"}),
    }
    nox.save(tmp_path / "m.nox", tree)
    expected = (
        "{\n"
        "  'model': models:Linear(w=f32[2,3], b=f32[2], n=3, activation='relu'),\n"
        f"  'opt': ({Pt.__module__}:Pt(x=bf16[2], y=3), None, (f32[1],)),\n"
        "  'cfg': {'lr': 0.1, 'names': ['a', 'b'], 5: True, 'empty': [], 'nested': {}},\n"
        "  'long': [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],\n"
        "  'frozen': FrozenDict({'a': 'x', 'b': 1.5}),\n"
        "}"
    )
    got = nox.inspect(tmp_path / "m.nox").tree
    assert got == expected, got
    tree["long"] = list(range(30))  # too long for one line: one item per line
    nox.save(tmp_path / "m.nox", tree)
    lines = nox.inspect(tmp_path / "m.nox").tree.splitlines()
    assert lines[4:7] == ["  'long': [", "    0,", "    1,"] and lines[34:36] == ["    29,", "  ],"]
    tree["frozen"] = nox.FrozenDict({f"key{i}": i for i in range(12)})  # one item per line, as FrozenDict prints
    nox.save(tmp_path / "m.nox", tree)
    lines = nox.inspect(tmp_path / "m.nox").tree.splitlines()
    assert lines[36:38] == ["  'frozen': FrozenDict({", "    'key0': 0,"] and lines[49] == "  }),"
