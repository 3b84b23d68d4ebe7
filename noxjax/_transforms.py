"""`nox.VMap`, `nox.Grad`, `nox.ValueAndGrad`, `nox.Remat`: JAX transforms as modules.

Each holds `fn` (a module or bound method is a child, so its arrays are traced;
any other callable is held by identity). Non-array leaves of the arguments are
static: they are closed over instead of passed through the transform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast, overload

import functools
from typing_extensions import Concatenate, ParamSpec

from ._field import open_field
from ._filtering import combine, partition
from ._jaxapi import KeyPath, checkpoint
from ._jaxapi import grad as jax_grad
from ._jaxapi import value_and_grad as jax_value_and_grad
from ._jaxapi import vmap as jax_vmap
from ._static import is_inexact_array, split_static
from ._where import Where, compile_where
from ._wrapper import Wrapper

__all__ = ["VMap", "Grad", "ValueAndGrad", "Remat", "vmap", "grad", "value_and_grad", "remat"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class VMap(Wrapper, Generic[P, R], name="noxjax.VMap"):
    """`jax.vmap(fn, in_axes, out_axes)`; `fn_axis=0` also maps over `fn`'s own arrays.

    With `fn_axis=None` (default) `fn`'s arrays are broadcast; with an int they are
    mapped along that axis (a stacked module: an ensemble).

    Raises what `jax.vmap` raises for axes that do not fit the arguments.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> nox.VMap(lambda x, y: x * y, in_axes=(0, None))(jnp.arange(3.0), 2.0)
        Array([0., 2., 4.], dtype=float32)
    """

    fn: Callable[P, R] = open_field()
    in_axes: Any = 0
    out_axes: Any = 0
    fn_axis: int | None = None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        both: Any = (args, kwargs)
        (dynamic_args, dynamic_kwargs), rebuild = split_static(both)
        fn, in_axes = self.fn, self.in_axes

        def call(f: Callable[..., Any], *a: Any, **k: Any) -> Any:
            a2, k2 = rebuild((a, k))
            return f(*a2, **k2)

        if self.fn_axis is None:
            mapped = jax_vmap(functools.partial(call, fn), in_axes=in_axes, out_axes=self.out_axes)
            result: R = mapped(*dynamic_args, **dynamic_kwargs)
            return result
        axes = cast("tuple[object, ...]", in_axes) if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        result = jax_vmap(call, in_axes=(self.fn_axis, *axes), out_axes=self.out_axes)(fn, *dynamic_args, **dynamic_kwargs)
        return result


def _differentiable(where: Where | None) -> Callable[[KeyPath, Any], bool]:
    matcher = None if where is None else compile_where(where)

    def select(path: KeyPath, leaf: Any) -> bool:
        inexact = type(leaf) is float or type(leaf) is complex or is_inexact_array(leaf)  # static=False scalars
        return inexact and (matcher is None or matcher(path, leaf))

    return select


class Grad(Wrapper, Generic[T, P], name="noxjax.Grad"):
    """The gradient of `fn` with respect to the inexact leaves of its first argument
    that `wrt` selects (default: all). The result has the first argument's
    structure, with None where nothing was differentiated; integer and bool leaves
    never are. With `has_aux`, returns `(grads, aux)`.

    Raises `nox.ArgumentError` for a first argument with nothing to differentiate
    where `wrt` selects.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> def loss(params, x):
        ...     return jnp.sum(params["w"] * x) + params["n"]
        >>> grads = nox.Grad(loss, wrt="['w']")({"w": jnp.ones(2), "n": 1.0}, jnp.arange(2.0))
        >>> grads["w"], grads["n"]
        (Array([0., 1.], dtype=float32), None)
    """

    fn: Callable[Concatenate[T, P], Any] = open_field()
    wrt: Where | None = open_field(default=None)
    has_aux: bool = False

    def __call__(self, x: T, /, *args: P.args, **kwargs: P.kwargs) -> Any:
        diff, rest = partition(x, _differentiable(self.wrt))
        fn = self.fn

        def loss(d: T) -> Any:
            return fn(combine(d, rest), *args, **kwargs)

        return jax_grad(loss, has_aux=self.has_aux)(diff)


class ValueAndGrad(Wrapper, Generic[T, P], name="noxjax.ValueAndGrad"):
    """`(fn(x, ...), gradient)` as `nox.Grad` computes it; with `has_aux`,
    `((value, aux), gradient)`.

    Raises as `nox.Grad` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> nox.ValueAndGrad(lambda p: jnp.sum(p["w"] ** 2))({"w": jnp.ones(2)})
        (Array(2., dtype=float32), {'w': Array([2., 2.], dtype=float32)})
    """

    fn: Callable[Concatenate[T, P], Any] = open_field()
    wrt: Where | None = open_field(default=None)
    has_aux: bool = False

    def __call__(self, x: T, /, *args: P.args, **kwargs: P.kwargs) -> tuple[Any, Any]:
        diff, rest = partition(x, _differentiable(self.wrt))
        fn = self.fn

        def loss(d: T) -> Any:
            return fn(combine(d, rest), *args, **kwargs)

        result: tuple[Any, Any] = jax_value_and_grad(loss, has_aux=self.has_aux)(diff)
        return result


class Remat(Wrapper, Generic[P, R], name="noxjax.Remat"):
    """`jax.checkpoint(fn)`: recompute `fn`'s intermediates in the backward pass.

    Raises what `jax.checkpoint` raises.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> jax.grad(nox.Remat(lambda x: x ** 3))(2.0)
        Array(12., dtype=float32, weak_type=True)
    """

    fn: Callable[P, R] = open_field()

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        both: Any = (args, kwargs)
        (dynamic_args, dynamic_kwargs), rebuild = split_static(both)
        fn: Callable[..., Any] = self.fn

        def call(*a: Any, **k: Any) -> Any:
            a2, k2 = rebuild((a, k))
            return fn(*a2, **k2)

        result: R = checkpoint(call)(*dynamic_args, **dynamic_kwargs)
        return result


@overload
def vmap(fn: Callable[P, R], /, *, in_axes: Any = 0, out_axes: Any = 0, fn_axis: int | None = None) -> VMap[P, R]: ...
@overload
def vmap(*, in_axes: Any = 0, out_axes: Any = 0, fn_axis: int | None = None) -> Callable[[Callable[P, R]], VMap[P, R]]: ...
def vmap(
    fn: Callable[P, R] | None = None, /, *, in_axes: Any = 0, out_axes: Any = 0, fn_axis: int | None = None
) -> VMap[P, R] | Callable[[Callable[P, R]], VMap[P, R]]:
    """`nox.VMap(fn, ...)`, usable as a decorator.

    Raises as `nox.VMap` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> @nox.vmap(in_axes=(0, None))
        ... def scale(x, s):
        ...     return x * s
        >>> scale(jnp.arange(3.0), 2.0)
        Array([0., 2., 4.], dtype=float32)
    """

    def build(f: Callable[P, R]) -> VMap[P, R]:
        return VMap(f, in_axes=in_axes, out_axes=out_axes, fn_axis=fn_axis)

    return build if fn is None else build(fn)


@overload
def grad(fn: Callable[Concatenate[T, P], Any], /, *, wrt: Where | None = None, has_aux: bool = False) -> Grad[T, P]: ...
@overload
def grad(*, wrt: Where | None = None, has_aux: bool = False) -> Callable[[Callable[Concatenate[T, P], Any]], Grad[T, P]]: ...
def grad(
    fn: Callable[Concatenate[T, P], Any] | None = None, /, *, wrt: Where | None = None, has_aux: bool = False
) -> Grad[T, P] | Callable[[Callable[Concatenate[T, P], Any]], Grad[T, P]]:
    """`nox.Grad(fn, ...)`, usable as a decorator.

    Raises as `nox.Grad` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> @nox.grad
        ... def loss(params):
        ...     return jnp.sum(params["w"] ** 2)
        >>> loss({"w": jnp.ones(2)})["w"]
        Array([2., 2.], dtype=float32)
    """

    def build(f: Callable[Concatenate[T, P], Any]) -> Grad[T, P]:
        return Grad(f, wrt=wrt, has_aux=has_aux)

    return build if fn is None else build(fn)


@overload
def value_and_grad(
    fn: Callable[Concatenate[T, P], Any], /, *, wrt: Where | None = None, has_aux: bool = False
) -> ValueAndGrad[T, P]: ...
@overload
def value_and_grad(
    *, wrt: Where | None = None, has_aux: bool = False
) -> Callable[[Callable[Concatenate[T, P], Any]], ValueAndGrad[T, P]]: ...
def value_and_grad(
    fn: Callable[Concatenate[T, P], Any] | None = None, /, *, wrt: Where | None = None, has_aux: bool = False
) -> ValueAndGrad[T, P] | Callable[[Callable[Concatenate[T, P], Any]], ValueAndGrad[T, P]]:
    """`nox.ValueAndGrad(fn, ...)`, usable as a decorator.

    Raises as `nox.Grad` does.

    Examples:
        >>> import jax.numpy as jnp, noxjax as nox
        >>> @nox.value_and_grad(wrt="['w']")
        ... def score(params):
        ...     return jnp.dot(params["w"], params["b"])
        >>> value, grads = score({"w": jnp.ones(2), "b": jnp.full(2, 3.0)})
        >>> float(value), grads["w"], grads["b"]
        (6.0, Array([3., 3.], dtype=float32), None)
    """

    def build(f: Callable[Concatenate[T, P], Any]) -> ValueAndGrad[T, P]:
        return ValueAndGrad(f, wrt=wrt, has_aux=has_aux)

    return build if fn is None else build(fn)


def remat(fn: Callable[P, R], /) -> Remat[P, R]:
    """`nox.Remat(fn)`, usable as a decorator.

    Raises as `nox.Remat` does.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> @nox.remat
        ... def block(x):
        ...     return jnp.tanh(x)
        >>> jax.grad(block)(0.0)
        Array(1., dtype=float32, weak_type=True)
    """
    return Remat(fn)
