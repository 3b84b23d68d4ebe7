"""Every public name has a docstring with a runnable example, and the examples run."""

from __future__ import annotations

import doctest
import inspect
from typing import Any

import pytest

import noxjax as nox

PUBLIC = [(f"nox.{name}", getattr(nox, name)) for name in nox.__all__]
try:
    import noxjax.orbax
except ImportError:  # orbax-checkpoint is an extra
    pass
else:
    PUBLIC += [(f"noxjax.orbax.{name}", getattr(noxjax.orbax, name)) for name in noxjax.orbax.__all__]


def _examples(obj: Any, name: str) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(recurse=False)
    return [t for t in finder.find(obj, name, globs={}) if t.examples]


@pytest.mark.parametrize(("name", "obj"), PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_name_has_a_docstring_with_an_example_that_runs(name: str, obj: Any) -> None:
    assert inspect.getdoc(obj), f"{name} has no docstring"
    tests = _examples(obj, name)
    assert tests, f"{name}'s docstring has no >>> example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"{name}: {runner.failures} failing example(s); run with -s to see them"
