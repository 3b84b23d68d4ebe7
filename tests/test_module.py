"""@nox.module, nox.Module, construction, immutability, inheritance, replace."""

from __future__ import annotations

import copy
import dataclasses
import sys
from typing import Any, ClassVar, Generic, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import noxjax as nox
from noxjax._pytree import class_info
from conftest import Linear

T = TypeVar("T")


def test_decorator_and_base_class_spellings_are_equivalent() -> None:
    @nox.module
    class A:
        w: jax.Array
        k: int = 1

    class B(nox.Module):
        w: jax.Array
        k: int = 1

    for cls in (A, B):
        m = cls(jnp.ones(2))
        assert dataclasses.is_dataclass(m)
        assert isinstance(m, nox.Module)
        assert nox.is_module(m)
        assert jax.tree.leaves(m)[0].shape == (2,)
        assert m.k == 1


def test_decorator_with_options_kw_only_and_name() -> None:
    @nox.module(kw_only=True, name="tests.KwOnly")
    class K:
        a: int
        b: int = 2

    with pytest.raises(TypeError, match=r"K\.__init__\(\) takes 1 positional argument but 2 were given"):
        K(1)  # type: ignore[misc]  # pyright: ignore[reportCallIssue]
    assert K(a=1).b == 2
    assert class_info(K).name == "tests.KwOnly"


def test_decorating_a_module_subclass_is_an_error() -> None:
    with pytest.raises(nox.FieldError, match="(?s)already a module.*class keywords"):

        @nox.module  # pyright: ignore
        class X(nox.Module):
            a: int


def test_assignment_and_deletion_raise_and_name_replace(linear: Linear) -> None:
    with pytest.raises(nox.FrozenError, match=r"(?s)cannot assign to field 'w' of Linear.*nox\.replace\(m, w=value\)"):
        linear.w = jnp.zeros((2, 3))  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    with pytest.raises(AttributeError, match="cannot delete field 'b'"):
        del linear.b  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    with pytest.raises(nox.UnknownFieldError, match=r"(?s)Linear has no field 'new'; its fields are: w, b, n, activation"):
        linear.new = 1  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]


def test_unknown_and_missing_fields_are_python_s_own_type_errors() -> None:
    # A generated __init__ is left as dataclasses wrote it (so beartype and jaxtyping
    # can check it): a bad call is Python's TypeError naming the class and argument.
    with pytest.raises(TypeError, match=r"Linear\.__init__\(\) got an unexpected keyword argument 'c'"):
        Linear(w=jnp.ones(1), b=jnp.ones(1), c=3)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    with pytest.raises(TypeError, match=r"Linear\.__init__\(\) missing 1 required positional argument: 'b'"):
        Linear(w=jnp.ones(1))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def test_a_bad_call_to_a_custom_init_shows_its_signature() -> None:
    class Custom(nox.Module):
        a: int

        def __init__(self, x: int, *, scale: int = 2) -> None:
            self.a = x * scale  # pyright: ignore[reportAttributeAccessIssue]

    with pytest.raises(nox.FieldError, match=r"cannot construct .*Custom: got an unexpected keyword argument 'y'\. Its signature is .*Custom\(x, \*, scale=2\)"):
        Custom(1, y=2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def test_type_errors_inside_init_are_not_rewritten() -> None:
    class Checked(nox.Module):
        a: int

        def __post_init__(self) -> None:
            raise TypeError("a must be positive")

    with pytest.raises(TypeError, match="a must be positive"):
        Checked(1)


def test_custom_init_assigns_fields_then_instance_is_frozen() -> None:
    class Scaled(nox.Module):
        w: jax.Array
        scale: float

        def __init__(self, d: int, scale: float = 2.0) -> None:
            self.w = jnp.ones(d) * scale  # pyright: ignore[reportAttributeAccessIssue]
            self.scale = scale  # pyright: ignore[reportAttributeAccessIssue]

    m = Scaled(3)
    assert m.scale == 2.0 and m.w.shape == (3,)
    with pytest.raises(nox.FrozenError):
        m.scale = 1.0  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    assert jax.tree.map(lambda x: x + 1, m).w[0] == 3.0  # unflatten skips __init__


def test_custom_init_that_forgets_a_field_or_sets_a_non_field() -> None:
    class Forgets(nox.Module):
        a: int
        b: int

        def __init__(self) -> None:
            self.a = 1  # pyright: ignore[reportAttributeAccessIssue]

    with pytest.raises(nox.FieldError, match=r"Forgets.__init__ returned without setting field\(s\) 'b'"):
        Forgets()

    class Extra(nox.Module):
        a: int

        def __init__(self) -> None:
            self.a = 1  # pyright: ignore[reportAttributeAccessIssue]
            self.cache = 2  # pyright: ignore[reportAttributeAccessIssue]

    with pytest.raises(nox.UnknownFieldError, match=r"Extra has no field 'cache'; its fields are: a"):
        Extra()

    class Both(nox.Module):
        a: int
        b: int

        def __init__(self, early: bool = False) -> None:
            if not early:
                self.a = 1  # pyright: ignore[reportAttributeAccessIssue]
            self.cache = 2  # pyright: ignore[reportAttributeAccessIssue]

    with pytest.raises(nox.UnknownFieldError, match=r"(?s)Both has no field 'cache'; its fields are: a, b\..*__init__ has not set 'b' yet") as info:
        Both()
    with pytest.raises(nox.UnknownFieldError, match=r"Also, __init__ has not set 'a', 'b' yet"):
        Both(early=True)
    assert isinstance(info.value, AttributeError) and isinstance(info.value, nox.NoxError)


def test_init_that_bypasses_setattr_is_still_checked() -> None:
    # object.__setattr__ is how Equinox users sneak in non-fields: the missing field
    # is still an error, and it names what was set instead.
    class Sneaky(nox.Module):
        a: int
        b: int

        def __init__(self, extras: tuple[str, ...]) -> None:
            object.__setattr__(self, "a", 1)
            for name in extras:
                object.__setattr__(self, name, 0)

    start = r"^.*Sneaky\.__init__ returned without setting field\(s\) 'b'; a custom __init__ must assign every field \(self\.b = \.\.\.\) or the field needs a default\."
    with pytest.raises(nox.FieldError, match=start + "$"):
        Sneaky(())
    with pytest.raises(nox.FieldError, match=start + r" It also set 'cache', which is not a field\.$"):
        Sneaky(("cache",))
    with pytest.raises(nox.FieldError, match=start + r" It also set 'cache', 'other', which are not fields\.$"):
        Sneaky(("cache", "other"))

    class ForgetsTwo(nox.Module):
        a: int
        b: int

        def __init__(self) -> None:
            pass

    with pytest.raises(nox.FieldError, match=r"field\(s\) 'a', 'b'; a custom __init__ must assign every field \(self\.a = "):
        ForgetsTwo()


def test_delete_inside_init_is_allowed_and_after_it_names_the_class() -> None:
    class Deletes(nox.Module):
        a: int

        def __init__(self) -> None:
            self.a = 1  # pyright: ignore[reportAttributeAccessIssue]
            del self.a  # pyright: ignore[reportAttributeAccessIssue]

    with pytest.raises(nox.FieldError, match=r"returned without setting field\(s\) 'a'"):
        Deletes()

    class Kept(nox.Module):
        a: int

    with pytest.raises(nox.FrozenError, match=r"^cannot delete field 'a' of .*Kept: modules are immutable\.") as info:
        del Kept(1).a  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    assert isinstance(info.value, AttributeError)


def test_signature_in_a_bad_call_error_is_exactly_the_user_signature() -> None:
    class Sig(nox.Module):
        a: int

        def __init__(self, x: int, y: int = 2) -> None:
            self.a = x + y  # pyright: ignore[reportAttributeAccessIssue]

    with pytest.raises(nox.FieldError, match=r"Its signature is .*Sig\(x, y=2\)\.$"):
        Sig(1, 2, 3)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def test_redecorating_an_automatic_module_keeps_field_options() -> None:
    @nox.module
    class Base:
        w: jax.Array

    class Auto(Base):  # made a module automatically, with Base's options
        k: Any = nox.field(default=0.5, static=False, tags=("t",))

        def double(self) -> Any:
            return 2 * self.k

    Strict = nox.module(kw_only=True)(Auto)  # made again, from the class body as written
    m = Strict(w=jnp.ones(1), k=2.0)
    assert jax.tree.leaves(nox.filter(m, nox.tag("t"))) == [2.0]  # still traced and tagged
    assert float(m.double()) == 4.0 and isinstance(m.double, nox.BoundMethod)
    with pytest.raises(TypeError, match="positional"):
        Strict(jnp.ones(1), 2.0)  # type: ignore[misc]  # pyright: ignore[reportCallIssue]


def test_post_init_validation_runs_and_unflatten_skips_it() -> None:
    calls = []

    class Positive(nox.Module):
        w: jax.Array

        def __post_init__(self) -> None:
            calls.append(1)
            if not isinstance(self.w, jax.core.Tracer) and (self.w < 0).any():
                raise ValueError("w must be non-negative")

    with pytest.raises(ValueError, match="non-negative"):
        Positive(-jnp.ones(2))
    m = Positive(jnp.ones(2))
    jax.tree.map(lambda x: -x, m)  # no __post_init__, so no error
    jax.tree.map(lambda _: None, m)
    assert len(calls) == 2


def test_inheritance_generics_classvar_initvar() -> None:
    class Base(nox.Module):
        w: jax.Array
        tag: ClassVar[str] = "base"

        def describe(self) -> str:
            return f"{self.tag}:{self.w.shape}"

    class Child(Base):  # undecorated subclass: a module with the same options
        extra: int = 0

    c = Child(jnp.ones(2), 5)
    assert nox.is_module(c) and isinstance(c, Base)
    assert c.describe() == "base:(2,)"
    assert [f.name for f in dataclasses.fields(c)] == ["w", "extra"]
    with pytest.raises(nox.FrozenError):
        c.extra = 1  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]

    class Box(nox.Module, Generic[T]):
        item: T

    assert Box[int](3).item == 3
    assert jax.tree.leaves(Box(jnp.ones(1))) != []

    class WithInitVar(nox.Module):
        w: jax.Array
        scale: dataclasses.InitVar[float] = 1.0

        def __post_init__(self, scale: float) -> None:
            self.w = self.w * scale  # pyright: ignore[reportAttributeAccessIssue]

    assert float(WithInitVar(jnp.ones(1), 3.0).w[0]) == 3.0


def test_decorator_route_subclasses() -> None:
    @nox.module
    class A:
        w: jax.Array
        act: str = "relu"

    class B(A):  # undecorated: automatically a module
        k: int = 1

    assert B(jnp.ones(1)).k == 1 and isinstance(B(jnp.ones(1)), nox.Module)

    @nox.module(kw_only=True)
    class C(A):  # needs kw_only because A has a default
        v: jax.Array

    assert C(w=jnp.ones(1), v=jnp.ones(2)).v.shape == (2,)

    class D(A):  # cannot be a module without kw_only: fails when used, saying why
        v: jax.Array

    with pytest.raises(nox.FieldError, match=r"(?s)D subclasses module A and could not be made a module\nwith the options it inherits \(kw_only=False\): non-default argument 'v' follows default argument.*kw_only=True"):
        D(jnp.ones(1), jnp.ones(1))


def test_base_class_subclass_inherits_kw_only() -> None:
    class A(nox.Module, kw_only=True):
        a: int = 0

    class B(A):
        b: int

    with pytest.raises(TypeError, match="takes 1 positional argument"):
        B(1)  # type: ignore[misc]  # pyright: ignore[reportCallIssue]
    assert B(b=1).a == 0


def test_replace_reruns_init_and_checks_names(linear: Linear) -> None:
    new = nox.replace(linear, n=4)
    assert new.n == 4 and new.w is linear.w and type(new) is Linear
    with pytest.raises(nox.FieldError, match=r"Linear has no field 'm'; its fields are: w, b, n, activation"):
        nox.replace(linear, m=1)
    if sys.version_info >= (3, 13):
        assert copy.replace(linear, n=5).n == 5
    assert linear.__replace__(n=6).n == 6

    class Validated(nox.Module):
        k: int

        def __post_init__(self) -> None:
            if self.k < 0:
                raise ValueError("k < 0")

    with pytest.raises(ValueError, match="k < 0"):
        nox.replace(Validated(1), k=-1)


def test_replace_with_custom_init_copies_and_rechecks() -> None:
    class Custom(nox.Module):
        a: int

        def __init__(self, x: int) -> None:
            self.a = x * 2  # pyright: ignore[reportAttributeAccessIssue]

    assert nox.replace(Custom(1), a=7).a == 7
    with pytest.raises(nox.FieldError, match="cannot be a field value"):
        nox.replace(Custom(1), a=lambda: 1)
    with pytest.raises(TypeError, match="expects a module"):
        nox.replace(1, a=1)


def test_copy_returns_self_and_pickle_round_trips(linear: Linear) -> None:
    import pickle

    assert copy.copy(linear) is linear and copy.deepcopy(linear) is linear
    again = pickle.loads(pickle.dumps(linear))
    assert again == linear


def test_numpy_arrays_are_copied_read_only() -> None:
    class N(nox.Module):
        w: np.ndarray

    source = np.zeros(3)
    m = N(source)
    source[0] = 5.0
    assert m.w[0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        m.w[0] = 1.0
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    assert N(frozen).w is frozen


def test_reserved_field_name() -> None:
    with pytest.raises(nox.FieldError, match="reserved"):

        class R(nox.Module):
            _nox_flat: int
