"""Methods are modules: nox.BoundMethod."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp

import noxjax as nox


class Encoder(nox.Module):
    w: jax.Array

    def encode(self, x: jax.Array) -> jax.Array:
        return self.w * x

    alias = encode

    @staticmethod
    def helper(x: int) -> int:
        return x + 1

    @classmethod
    def make(cls) -> "Encoder":
        return cls(jnp.ones(2))

    @property
    def size(self) -> int:
        return self.w.shape[0]


class Doubled(Encoder):
    def encode(self, x: jax.Array) -> jax.Array:
        return 2 * super().encode(x)


def test_bound_method_is_a_module_holding_the_instance() -> None:
    m = Encoder(jnp.array([1.0, 2.0]))
    bound = m.encode
    assert isinstance(bound, nox.BoundMethod) and isinstance(bound, nox.Module)
    assert bound.__self__ is m and bound.__func__ is Encoder.encode
    assert jax.tree.leaves(bound) == [m.w]
    assert jnp.array_equal(bound(jnp.ones(2)), m.w)
    assert bound.__name__ == "encode" and "x" in inspect.signature(bound).parameters
    assert repr(bound) == "<bound method Encoder.encode of Encoder>"


def test_keyword_arguments_reach_the_method() -> None:
    class Scaled(nox.Module):
        w: jax.Array

        def apply(self, x: jax.Array, *, scale: float = 1.0) -> jax.Array:
            return self.w * x * scale

    assert Scaled(jnp.ones(1)).apply(jnp.ones(1), scale=3.0).tolist() == [3.0]


def test_compares_and_hashes_like_python_bound_methods() -> None:
    m = Encoder(jnp.ones(2))
    assert m.encode == m.encode and hash(m.encode) == hash(m.encode)
    assert m.alias == m.encode
    other = Encoder(jnp.ones(2))
    assert m.encode != other.encode and hash(m.encode) != hash(other.encode)
    assert len({m.encode, m.encode, other.encode}) == 2


def test_super_inheritance_and_untouched_descriptors() -> None:
    d = Doubled(jnp.array([1.0, 3.0]))
    assert jnp.array_equal(d.encode(jnp.ones(2)), jnp.array([2.0, 6.0]))
    assert jnp.array_equal(d.alias(jnp.ones(2)), jnp.array([1.0, 3.0]))  # alias binds Encoder.encode
    assert Encoder.helper(1) == 2 and isinstance(Encoder.make(), Encoder)
    assert d.size == 2
    assert not isinstance(nox.Sequential([]).__call__, nox.BoundMethod)  # dunders stay plain methods


def test_jax_jit_of_bound_method_and_passing_it_as_an_argument() -> None:
    m = Encoder(jnp.array([1.0, 2.0]))
    assert jnp.array_equal(jax.jit(m.encode)(jnp.ones(2)), m.w)
    traces = []

    @jax.jit
    def apply(f: nox.BoundMethod, x: jax.Array) -> jax.Array:
        traces.append(1)
        return f(x)

    apply(m.encode, jnp.ones(2))
    out = apply(Encoder(jnp.array([5.0, 6.0])).encode, jnp.ones(2))  # parameters traced: no retrace
    assert len(traces) == 1 and out.tolist() == [5.0, 6.0]
    grads = jax.grad(lambda f: f(jnp.ones(2)).sum())(m.encode)
    assert isinstance(grads, nox.BoundMethod) and grads.__self__.w.tolist() == [1.0, 1.0]
