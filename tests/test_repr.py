"""Short, safe repr."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
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


class Printer:
    """IPython's pretty printer, as far as `_repr_pretty_` uses it."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def text(self, s: str) -> None:
        self.out.append(s)


def test_summary_under_jit_and_ipython_pretty(linear: Linear) -> None:
    seen: list[str] = []
    jax.jit(lambda m: seen.append(nox.summary(m)) or m.w)(linear)
    assert "total" in seen[0] and "8" in seen[0].splitlines()[-1]

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


@nox.module
class Box:
    a: Any
    b: Any = ()
    c: Any = None


def test_repr_of_containers_and_dtypes_exactly() -> None:
    box = Box(
        a=(jnp.ones(2, jnp.bool_),),
        b={"k": jnp.zeros((), jnp.uint8), "f": jax.nn.relu},
        c=(jnp.ones(3, jnp.complex64), jax.random.key(0), jnp.ones(1, jnp.float16), np.ones(2, np.int32), jnp.ones(1, jnp.bfloat16)),
    )
    assert repr(box) == "Box(\n  a=(bool[2],),\n  b={'f': jax.nn.relu, 'k': u8[]},\n  c=(c64[3], key[], f16[1], i32[2], bf16[1]),\n)"
    assert repr(Box(a=(), b=(1, 2))) == "Box(a=(), b=(1, 2), c=None)"


def test_repr_wraps_past_88_characters_with_nested_indents() -> None:
    fits = Box(a="x" * 65)
    assert len(repr(fits)) == 88 and "\n" not in repr(fits)
    assert repr(Box(a="x" * 66)) == "Box(\n  a='" + "x" * 66 + "',\n  b=(),\n  c=None,\n)"
    inner = repr(Box(a="y" * 63))
    assert len(inner) == 86 and repr(Box(a=Box(a="y" * 63))).splitlines()[1] == f"  a={inner},"  # 2 + 86 fit in 88
    nested = Box(a=Box(a="y" * 64), b=("z" * 84,), c={"k": "w" * 80})
    assert repr(nested) == (
        "Box(\n"
        "  a=Box(\n"
        "    a='" + "y" * 64 + "',\n"
        "    b=(),\n"
        "    c=None,\n"
        "  ),\n"
        "  b=(\n"
        "    '" + "z" * 84 + "',\n"
        "  ),\n"
        "  c={\n"
        "    'k': '" + "w" * 80 + "',\n"
        "  },\n"
        ")"
    )


_SEEN: list[str] = []
_SHOW: list[Callable[[Any], str]] = [repr]


@nox.module
class Half:
    """Shows itself (with _SHOW[0]) before its second field is set."""

    a: Any
    b: Any

    def __init__(self, a: Any) -> None:
        self.a = a
        _SEEN.append(_SHOW[0](self))
        self.b = 2


def test_a_field_not_yet_set_prints_as_unset_and_a_cycle_as_dots() -> None:
    _SEEN.clear()
    half = Half(jnp.ones(2))
    assert _SEEN == ["Half(a=f32[2], b='<unset>')"]

    printer = Printer()
    half._repr_pretty_(printer, True)  # type: ignore[attr-defined]
    assert printer.out == ["Half(...)"]


def test_summary_exactly_with_keys_roots_and_alignment() -> None:
    box = Box(a=(jnp.ones(2, jnp.bool_),), b={"k": jnp.zeros((), jnp.uint8)}, c=(jax.random.split(jax.random.key(0), 3), jnp.ones((40, 30))))
    assert nox.summary(box).splitlines() == [
        "path     dtype  shape     params  bytes",
        "-------  -----  --------  ------  -----",
        ".a[0]    bool   [2]            2      2",
        ".b['k']  u8     []             1      1",
        ".c[0]    key    [3]            3     24",
        ".c[1]    f32    [40, 30]   1,200  4,800",
        "-------  -----  --------  ------  -----",
        "total                      1,206  4,827",
    ]
    assert nox.summary(jnp.ones(3)).splitlines()[2] == "<root>  f32    [3]         3     12"
    seen: list[str] = []
    jax.jit(lambda tree: seen.append(nox.summary(tree)) or tree)(box)  # keys as tracers too
    assert seen == [nox.summary(box)]


def test_treescope_text_exactly() -> None:
    treescope = pytest.importorskip("treescope")
    _SEEN.clear()
    _SHOW[0] = treescope.render_to_text
    try:
        Half(3)
    finally:
        _SHOW[0] = repr
    assert _SEEN == ["Half(a=3, b='<unset>')"]
    assert treescope.render_to_text(Box(a=1, b=(2,))) == "Box(a=1, b=(2,), c=None)"
    assert treescope.render_to_text(Box(a="x" * 90)) == "Box(\n  a='" + "x" * 90 + "',\n  b=(),\n  c=None,\n)"


def test_treescope_colors_the_class_and_gives_each_field_its_path() -> None:
    treescope = pytest.importorskip("treescope")
    from treescope import formatting_util

    html = treescope.render_to_html(Box(a=jnp.ones(2)), roundtrip_mode=False, compressed=False)
    assert formatting_util.color_from_string("Box") in html
    calls: list[tuple[object, object]] = []

    def renderer(value: object, path: object) -> object:
        calls.append((value, path))
        return treescope.rendering_parts.text(repr(value))

    Box(a=1, b=(2,)).__treescope_repr__("root", renderer)  # type: ignore[attr-defined]
    Box(a=1).__treescope_repr__(None, renderer)  # type: ignore[attr-defined]
    assert calls == [(1, "root.a"), ((2,), "root.b"), (None, "root.c"), (1, None), ((), None), (None, None)]


@dataclasses.dataclass(frozen=True)
class Tagged:
    x: int

    def __repr__(self) -> str:
        return f"<tag {self.x}>"


@nox.module
class Keeps:
    tag: Tagged = nox.field(static=True)
    kind: type = nox.field(static=True, default=Tagged)


def test_static_dataclasses_print_with_their_own_repr() -> None:
    assert repr(Keeps(Tagged(1))) == f"Keeps(tag=<tag 1>, kind={Tagged!r})"


def test_children_of_dicts_and_tuples_wrap_at_their_own_indent() -> None:
    inner = repr(Box(a="y" * 61))  # 84 characters: fits at indent 4, not at 6
    assert len(inner) == 84
    lines = repr(Box(a=(Box(a="y" * 61), "x" * 80), b={"k": Box(a="y" * 61)})).splitlines()
    assert lines[2] == f"    {inner}," and lines[6] == f"    'k': {inner},"
    deeper = repr(Box(a=({"k": Box(a="y" * 61)}, "x" * 80))).splitlines()
    assert deeper[3:5] == ["      'k': Box(", "        a='" + "y" * 61 + "',"]
