"""Short, safe repr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest
import jax.numpy as jnp

import noxjax as nox
from conftest import Linear


def test_arrays_print_as_dtype_and_shape(linear: Linear) -> None:
    assert repr(linear) == "Linear(w=f32[2,3], b=f32[2], n=3, activation='relu')"


def test_long_trees_wrap_and_functions_print_by_name(linear: Linear) -> None:
    text = repr(nox.Sequential([linear, jax.nn.relu, linear]))
    assert text.splitlines()[0] == "Sequential(" and "    jax.nn.relu," in text


def test_repr_under_jit_never_reads_values(linear: Linear) -> None:
    seen = []

    @jax.jit
    def f(m: Linear) -> jax.Array:
        seen.append(repr(m))
        return m.w

    f(linear)
    assert seen == ["Linear(w=f32[2,3], b=f32[2], n=3, activation='relu')"]
    assert repr(Linear(jnp.ones((1, 1), jnp.bfloat16), jnp.ones(1, jnp.int8))).startswith("Linear(w=bf16[1,1], b=i8[1]")


def test_summary_table_has_paths_shapes_counts_and_totals() -> None:
    model = nox.Sequential([Linear(jnp.ones((64, 3)), jnp.zeros(64)), jax.nn.relu])
    lines = nox.summary(model).splitlines()
    assert lines[0].split() == ["path", "dtype", "shape", "params", "bytes"]
    assert lines[2].split() == [".layers[0].w", "f32", "[64,", "3]", "192", "768"]
    assert lines[-1].split() == ["total", "256", "1,024"]


def test_summary_under_jit_and_ipython_pretty(linear: Linear) -> None:
    seen: list[str] = []
    jax.jit(lambda m: seen.append(nox.summary(m)) or m.w)(linear)
    assert "total" in seen[0] and "8" in seen[0].splitlines()[-1]

    class Printer:
        def __init__(self) -> None:
            self.out: list[str] = []

        def text(self, s: str) -> None:
            self.out.append(s)

    printer = Printer()
    linear._repr_pretty_(printer, False)  # type: ignore[attr-defined]
    assert printer.out == [repr(linear)]


def test_repr_reads_no_array_values_and_works_under_vmap(linear: Linear) -> None:
    gone = Linear(jnp.ones((2, 3)), jnp.zeros(2))
    gone.w.delete()  # reading its values would raise
    assert repr(gone) == "Linear(w=f32[2,3], b=f32[2], n=3, activation='relu')"
    seen = []
    jax.vmap(lambda m: seen.append(repr(m)) or m.b)(nox.stack([linear, linear]))
    assert seen == ["Linear(w=f32[2,3], b=f32[2], n=3, activation='relu')"]


def test_treescope_renders_fields_statics_and_array_summaries(linear: Linear) -> None:
    treescope = pytest.importorskip("treescope")
    text = treescope.render_to_text(nox.Sequential([linear]))
    assert text.startswith("Sequential(\n  layers=(\n    Linear(\n")
    assert "w=# jax.Array float32(2, 3)" in text and "n=3," in text and "activation='relu'," in text
    with treescope.active_autovisualizer.set_scoped(None):
        assert "f32[2,3]" not in treescope.render_to_text(linear)  # treescope's rendering, not the plain repr


def test_import_noxjax_does_not_import_treescope() -> None:
    code = "import sys, noxjax; print('treescope' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(nox.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout == "False\n"
