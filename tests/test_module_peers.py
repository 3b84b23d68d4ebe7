"""Module situations that Equinox, flax and penzai test on their own classes."""

from __future__ import annotations

import copy
import inspect
import multiprocessing
import pickle
from typing import Any, Generic, TypeVar

import cloudpickle
import jax
import jax.numpy as jnp
import pytest

import noxjax as nox
from ckpt_models import scale_in_child

T = TypeVar("T")


class Act(nox.Module):
    w: jax.Array
    act: Any = jax.nn.relu
    acts: tuple[Any, ...] = (jax.nn.tanh, 1)


class Gated(nox.Module):
    table: Any = nox.field(default_factory=lambda: {"gate": jax.nn.sigmoid, "k": 2})


def test_copy_deepcopy_pickle_and_cloudpickle_with_registered_functions() -> None:
    m = Act(jnp.ones(2))
    assert copy.copy(m) is m and copy.deepcopy(m) is m
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)):
        back = loads(dumps(m))
        assert back == m and back.act is jax.nn.relu and back.acts[0] is jax.nn.tanh
        gated = loads(dumps(Gated()))
        assert gated.table["gate"] is jax.nn.sigmoid and gated.table["k"] == 2
        assert loads(dumps(Act)) is Act


def test_cloudpickle_by_value_for_classes_defined_in_a_function() -> None:
    class Local(nox.Module):
        w: jax.Array
        act: Any = jax.nn.relu

    m = Local(jnp.ones(2))
    back = cloudpickle.loads(cloudpickle.dumps(m))
    assert back == m and jax.tree.structure(back) == jax.tree.structure(m)


def test_a_model_passes_through_multiprocessing_with_spawn() -> None:
    m = Act(jnp.arange(3.0))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        back = pool.apply(scale_in_child, (m,))
    assert back == m


def test_a_user_init_subclass_without_super_still_makes_modules() -> None:
    class Base(nox.Module):
        a: int = 1

        def __init_subclass__(cls, **kwargs: Any) -> None:  # forgets super()
            cls.seen = True  # type: ignore[attr-defined]

    class Sub(Base):
        b: int = 2

    s = Sub()
    assert nox.is_module(s) and (s.a, s.b) == (1, 2) and Sub.seen  # type: ignore[attr-defined]
    with pytest.raises(nox.FrozenError):
        s.b = 3  # type: ignore[misc]


class Keyed:
    """A plain mixin whose `__init_subclass__` takes a class keyword."""

    def __init_subclass__(cls, key: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.key = key  # type: ignore[attr-defined]


def test_class_keywords_reach_every_init_subclass() -> None:
    @nox.module
    class A(Keyed, key="a"):
        x: int = 0

    class B(A, key="b"):  # made a module automatically; the keyword still reaches Keyed
        y: int = 1

    class Base(nox.Module):
        def __init_subclass__(cls, scale: int = 1, **kwargs: Any) -> None:
            cls.scale = scale  # type: ignore[attr-defined]

    class Sub(Base, scale=3):
        z: int = 2

    assert (A.key, B.key, B().y) == ("a", "b", 1) and nox.is_module(B())  # type: ignore[attr-defined]
    assert Sub.scale == 3 and Sub().z == 2  # type: ignore[attr-defined]


def test_a_subclass_attribute_overrides_an_inherited_default() -> None:
    class Base(nox.Module):
        a: int = 1
        tagged: float = nox.field(default=0.5, tags=("lr",))

    class Sub(Base):
        a = 5
        tagged = 0.25

    class Annotated(Base):
        a: int = 7

    assert Sub().a == 5 and Sub().tagged == 0.25 and Annotated().a == 7 and Base().a == 1
    assert [f.name for f in __import__("dataclasses").fields(Sub)] == ["a", "tagged"]


def test_definition_errors_surface_when_the_class_is_defined() -> None:
    with pytest.raises(nox.FieldError, match=r"(?s)D cannot be a module: non-default argument 'b'.*kw_only=True"):
        class D(nox.Module):
            a: int = 1
            b: int

    with pytest.raises(nox.FieldError, match="kw_only must be True or False"):
        class E(nox.Module, kw_only="yes"):  # type: ignore[call-arg]
            a: int

    with pytest.raises(nox.FieldError, match="name must be a non-empty str"):
        class F(nox.Module, name=""):
            a: int

    with pytest.raises(nox.FieldError, match=r"(?s)S declares __slots__.*Remove __slots__"):
        class S(nox.Module):
            __slots__ = ("a",)
            a: int


def test_not_built_yet_and_gaps_in_custom_init() -> None:
    class Early(nox.Module):
        w: jax.Array

        def __init__(self) -> None:
            self.w = jnp.ones(1)  # pyright: ignore[reportAttributeAccessIssue]
            jax.tree.leaves(self)

    with pytest.raises(nox.NotBuiltError, match=r"(?s)Early is not built yet.*classmethod"):
        Early()


def test_a_subclass_without_fields_or_init_keeps_the_parent_init() -> None:
    class Parent(nox.Module):
        a: int

        def __init__(self, x: int) -> None:
            self.a = 2 * x  # pyright: ignore[reportAttributeAccessIssue]

    class Child(Parent):
        pass

    assert Child(3).a == 6 and str(inspect.signature(Child)) == "(x: 'int') -> 'None'"


class Box(nox.Module, Generic[T]):
    value: T


def test_generic_modules_and_signatures() -> None:
    assert Box[int](1).value == 1
    assert list(inspect.signature(Act).parameters) == ["w", "act", "acts"]


def test_beartype_checks_the_constructor() -> None:
    beartype = pytest.importorskip("beartype")
    roar = pytest.importorskip("beartype.roar")

    @beartype.beartype
    class Typed(nox.Module):
        n: int

    assert Typed(1).n == 1
    with pytest.raises(roar.BeartypeCallHintParamViolation):
        Typed("x")  # type: ignore[arg-type]

    class Custom(nox.Module):
        n: int

        @beartype.beartype
        def __init__(self, n: int) -> None:  # a custom __init__: decorate it directly
            self.n = n  # pyright: ignore[reportAttributeAccessIssue]

    assert Custom(2).n == 2
    with pytest.raises(roar.BeartypeCallHintParamViolation):
        Custom("x")  # type: ignore[arg-type]


@pytest.mark.parametrize("module_name", ["typed_models_future", "typed_models_plain"])
def test_jaxtyping_checks_shapes_with_and_without_future_annotations(module_name: str) -> None:
    pytest.importorskip("beartype")
    typed = __import__(module_name)
    assert typed.Dense(jnp.ones((2, 3)), jnp.ones(2)).w.shape == (2, 3)
    with pytest.raises(Exception, match="(?i)type-check error"):
        typed.Dense(jnp.ones((2, 3)), jnp.ones(3))
    with pytest.raises(Exception, match="(?i)type-check error"):
        typed.Dense(jnp.ones((2, 3), jnp.int32), jnp.ones(2))


class Node(nox.Module):
    """A forward reference that cannot resolve while the class is being made."""

    value: int
    child: Node | None = None


def test_unresolvable_forward_references_keep_their_annotations() -> None:
    import dataclasses

    assert Node(1, Node(2)).child == Node(2)
    assert [f.type for f in dataclasses.fields(Node)] == ["int", "Node | None"]
    assert [f.type for f in dataclasses.fields(Act)] == [jax.Array, Any, tuple[Any, ...]]


def test_a_missing_attribute_is_pythons_attribute_error() -> None:
    class Small(nox.Module):
        a: int = 1

    m = Small()
    with pytest.raises(AttributeError, match=r"^'Small' object has no attribute 'nope'$") as info:
        m.nope  # type: ignore[attr-defined]  # noqa: B018
    assert info.value.name == "nope" and info.value.obj is m and not hasattr(m, "nope")


def test_an_inherited_post_init_validates_subclasses_once() -> None:
    calls: list[str] = []

    class Checked(nox.Module):
        w: jax.Array

        def __post_init__(self) -> None:
            calls.append(type(self).__name__)
            if (self.w < 0).any():
                raise ValueError("w must be non-negative")

    class Wider(Checked):
        extra: int = 0

    assert Wider(jnp.ones(1), 2).extra == 2 and calls == ["Wider"]
    with pytest.raises(ValueError, match="w must be non-negative"):
        Wider(-jnp.ones(1))


def test_an_overridden_default_keeps_the_fields_options() -> None:
    import dataclasses

    class Base(nox.Module):
        w: jax.Array
        hidden: int = nox.field(default=1, repr=False)
        rate: float = nox.field(default=0.5, static=False, tags=("lr",), metadata={"unit": "1/step"})
        mode: str = nox.field(default="a", kw_only=True)

    class Sub(Base):
        hidden = 2
        rate = 0.25
        mode = nox.field(default="b", kw_only=True)

    m = Sub(jnp.ones(1))
    assert (m.hidden, m.rate, m.mode) == (2, 0.25, "b") and "hidden" not in repr(m)
    assert [f.type for f in dataclasses.fields(Sub)] == [f.type for f in dataclasses.fields(Base)]
    keys = {k[0].name: k[0] for k, _ in jax.tree_util.tree_flatten_with_path(m)[0]}
    assert keys["rate"].tags == ("lr",) and dict(keys["rate"].metadata) == {"unit": "1/step"}
    with pytest.raises(TypeError):
        Sub(jnp.ones(1), 3, 0.1, "c")  # type: ignore[misc]  # mode stays keyword-only
