"""Transforms as method decorators: binding, metadata, doctests (noxjax/_wrapper.py)."""

from __future__ import annotations

import doctest
import sys
from typing import Any

import jax
import jax.numpy as jnp
import pytest

import noxjax as nox
from noxjax._wrapper import Wrapper


class Model(nox.Module):
    w: jax.Array

    @nox.jit
    def __call__(self, x: jax.Array) -> jax.Array:
        """Scale x.

        >>> float(Model(jnp.ones(1) * 2)(jnp.ones(1))[0])
        2.0
        """
        TRACES.append(1)
        return self.w * x

    @nox.grad
    def loss(self, x: jax.Array) -> jax.Array:
        return (self.w * x).sum()

    @nox.value_and_grad(has_aux=True)
    def loss_aux(self, x: jax.Array) -> tuple[jax.Array, int]:
        return (self.w * x).sum(), 7

    @nox.vmap(in_axes=(None, 0))
    def batched(self, x: jax.Array) -> jax.Array:
        return self.w * x

    @nox.remat
    def checkpointed(self, x: jax.Array) -> jax.Array:
        return jnp.sin(self.w * x)

    @nox.jit
    @nox.vmap(in_axes=(None, 0))
    def both(self, x: jax.Array) -> jax.Array:
        return self.w @ x

    def plain(self, x: jax.Array) -> jax.Array:
        """A plain method."""
        return self.w + x


TRACES: list[int] = []


def test_decorated_methods_bind_self_like_python_methods() -> None:
    m = Model(jnp.arange(3.0))
    x = jnp.ones(3)
    assert m(x).tolist() == [0.0, 1.0, 2.0]
    assert isinstance(m.loss(x), Model) and m.loss(x).w.tolist() == [1.0, 1.0, 1.0]  # d/dself
    (value, aux), grads = m.loss_aux(x)
    assert float(value) == 3.0 and aux == 7 and grads.w.tolist() == [1.0] * 3
    assert m.batched(jnp.ones((4, 3))).shape == (4, 3)
    assert jnp.allclose(m.checkpointed(x), jnp.sin(m.w))
    assert m.both(jnp.ones((2, 3))).tolist() == [3.0, 3.0]


def test_a_jit_method_traces_self_once_for_many_values() -> None:
    TRACES.clear()
    for i in range(3):
        Model(jnp.full(2, float(i)))(jnp.ones(2))
    assert len(TRACES) == 1
    bound = Model(jnp.ones(2)).checkpointed
    assert isinstance(bound, nox.BoundMethod) and nox.paths(bound) == [".__self__.w"]
    assert nox.Jit(bound)(jnp.ones(2)).tolist() == pytest.approx([0.841471] * 2)
    call = Model.__dict__["__call__"]  # a dunder: a plain function calling the transform
    assert isinstance(call.__wrapped__, nox.Jit) and call(Model(jnp.ones(2)), jnp.ones(2)).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("attr", ["__call__", "loss", "loss_aux", "batched", "checkpointed", "both"])
def test_transforms_carry_the_wrapped_functions_metadata(attr: str) -> None:
    transform = Model.__dict__[attr]
    wrapped = transform.__wrapped__
    while isinstance(wrapped, nox.Module):
        wrapped = wrapped.__wrapped__
    for name in ("__name__", "__qualname__", "__module__", "__doc__"):
        assert getattr(transform, name) == getattr(wrapped, name), name
    assert transform.__qualname__ == f"Model.{attr}" and transform.__module__ == __name__
    bound = getattr(Model(jnp.ones(1)), attr)
    assert bound.__name__ == attr and bound.__qualname__ == f"Model.{attr}" and bound.__doc__ == wrapped.__doc__
    rebuilt = jax.tree.map(lambda x: x, transform)
    assert rebuilt.__qualname__ == transform.__qualname__ and rebuilt.__module__ == __name__


def test_class_docstrings_stay_on_the_transform_classes() -> None:
    assert nox.Jit.__doc__ is not None and nox.Jit.__doc__.startswith("`fn` compiled with `jax.jit`")
    assert nox.BoundMethod.__doc__ is not None and "bound to a module instance" in nox.BoundMethod.__doc__
    assert Model(jnp.ones(1)).plain.__doc__ == "A plain method."


def test_methods_keep_module_and_doc_so_doctests_are_collected() -> None:
    tests = doctest.DocTestFinder().find(sys.modules[__name__], globs={"Model": Model, "jnp": jnp})
    names = {t.name.rsplit(".", 2)[-2:][0] + "." + t.name.rsplit(".", 1)[-1] for t in tests if t.examples}
    assert "Model.__call__" in names
    runner = doctest.DocTestRunner()
    for t in tests:
        runner.run(t)
    assert runner.failures == 0 and runner.tries >= 1
    descriptor = Model.__dict__["plain"]
    assert descriptor.__module__ == __name__ and descriptor.__doc__ == "A plain method."


def test_decorators_applied_when_a_class_is_made_later_pass_every_argument() -> None:
    class Local(nox.Module):
        w: jax.Array
        b: jax.Array

        @nox.jit
        def __call__(self, x: jax.Array, y: jax.Array, *, scale: float = 1.0) -> jax.Array:
            """Local call."""
            return (self.w * x + y) * scale

        @nox.value_and_grad
        def loss(self, x: jax.Array) -> jax.Array:
            return (self.w * x + self.b).sum()

        @nox.value_and_grad(wrt="w")
        def loss_w(self, x: jax.Array) -> jax.Array:
            return (self.w * x + self.b).sum()

        @nox.grad(wrt="b")
        def grad_b(self, x: jax.Array) -> jax.Array:
            return (self.w * x + self.b).sum()

        @nox.grad
        def grad_all(self, x: jax.Array) -> jax.Array:
            return (self.w * x + self.b).sum()

        @nox.vmap
        def rows(self, xs: jax.Array) -> jax.Array:
            return xs.sum() * self.w.sum()

        @nox.vmap(out_axes=1)
        def columns(self, xs: jax.Array) -> jax.Array:
            return xs * self.w.sum()

        def plain(self, x: jax.Array) -> jax.Array:
            """A plain method."""
            return self.w * x

    plain_function = Local.__dict__["plain"].__func__
    plain_function.marker = "kept"
    m = Local(jnp.full(2, 2.0), jnp.ones(2))
    assert m(jnp.ones(2), jnp.ones(2), scale=3.0).tolist() == [9.0, 9.0]
    assert Local.__call__.__doc__ == "Local call." and Local.__call__.__wrapped__.fn.__name__ == "__call__"
    value, grads = m.loss(jnp.full(2, 3.0))
    assert float(value) == 14.0 and grads.w.tolist() == [3.0, 3.0] and grads.b.tolist() == [1.0, 1.0]
    value, grads = m.loss_w(jnp.full(2, 3.0))
    assert float(value) == 14.0 and grads.w.tolist() == [3.0, 3.0] and grads.b is None
    only_b, both = m.grad_b(jnp.full(2, 3.0)), m.grad_all(jnp.full(2, 3.0))
    assert only_b.w is None and only_b.b.tolist() == [1.0, 1.0] and both.w.tolist() == [3.0, 3.0]
    xs, stacked = jnp.arange(6.0).reshape(3, 2), Local(jnp.arange(3.0), jnp.ones(3))
    assert stacked.rows(xs).tolist() == [0.0, 5.0, 18.0]  # in_axes=0: self is mapped too
    assert stacked.columns(xs).tolist() == [[0.0, 2.0, 8.0], [0.0, 3.0, 10.0]]
    descriptor = Local.__dict__["plain"]
    assert (descriptor.__name__, descriptor.__doc__, descriptor.marker) == ("plain", "A plain method.", "kept")
    assert m.plain(jnp.ones(2)).tolist() == [2.0, 2.0]


def test_a_bound_transform_has_one_treedef_per_method() -> None:
    m = Model(jnp.ones(1))
    assert jax.tree.structure(m.loss) == jax.tree.structure(m.loss)  # jit caches on it
    assert jax.tree.structure(m.loss) != jax.tree.structure(m.loss_aux)


def increment(x: Any) -> Any:
    """Adds one."""
    return x + 1


def test_a_new_transform_on_wrapper_gets_metadata_and_binding() -> None:
    class Twice(Wrapper):  # made while the test runs, so Wrapper.__init_subclass__ runs now
        """Applies `fn` twice."""

        def __call__(self, *args: Any) -> Any:
            return self.fn(self.fn(*args))

    twice = Twice(increment)
    assert Twice.__doc__ == "Applies `fn` twice." and twice.__doc__ == "Adds one."
    assert (twice.__name__, twice.__qualname__, twice.__module__) == ("increment", "increment", __name__)
    assert twice.__wrapped__ is increment and twice(1) == 3
    mapped = jax.tree.map(lambda a: a, twice)
    assert mapped.__qualname__ == "increment" and mapped.__doc__ == "Adds one."

    class Holder(nox.Module):
        w: jax.Array

        @Twice
        def grow(self) -> Holder:
            return Holder(self.w + 1)

    held = Holder(jnp.zeros(1))
    assert isinstance(held.grow, nox.BoundMethod) and held.grow.__func__.fn.__name__ == "grow"
    assert float(held.grow().w[0]) == 2.0


def test_transforms_on_plain_classes_bind_with_partial() -> None:
    class Plain:
        def __init__(self, k: int) -> None:
            self.k = k

        @nox.jit
        def f(self, x: jax.Array) -> jax.Array:
            return x + self.k  # a plain object is a static argument, by identity

    assert Plain(2).f(jnp.ones(1)).tolist() == [3.0]
