"""Class and function names."""

from __future__ import annotations

import pytest

import noxjax as nox
from noxjax._pytree import class_info
from noxjax import _registry


def test_default_and_explicit_names() -> None:
    class Plain(nox.Module):
        a: int

    assert class_info(Plain).name == f"{__name__}:test_default_and_explicit_names.<locals>.Plain"
    assert _registry.class_by_name(class_info(Plain).name) is Plain


def test_duplicate_name_is_an_error_but_redefinition_replaces() -> None:
    class First(nox.Module, name="tests.dup"):
        a: int

    with pytest.raises(nox.FieldError, match=r"module name 'tests.dup' is already taken by .*First"):

        class Second(nox.Module, name="tests.dup"):
            a: int

    for _ in range(2):  # a re-run notebook cell

        class First(nox.Module, name="tests.dup"):  # type: ignore[no-redef]  # noqa: F811
            a: int

    assert _registry.class_by_name("tests.dup") is First


def test_register_function_names() -> None:
    def f(x: int) -> int:
        return x

    nox.register_function(f, "tests.f")
    assert _registry.function_name(f) == "tests.f" and _registry.function_by_name("tests.f") is f
    with pytest.raises(nox.FieldError, match="already registered"):
        nox.register_function(lambda x: x, "tests.f")
    assert _registry.function_name(lambda x: x) is None
