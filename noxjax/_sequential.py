"""`nox.Sequential`: layers applied in order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, overload

from ._module import Module


class Sequential(Module, name="noxjax.Sequential"):
    """Applies `layers` in order: `Sequential([a, b])(x) == b(a(x))`.

    Layers are modules, bound methods or registered functions such as `jax.nn.relu`.
    Indexing returns a layer, slicing a `Sequential`.

    Raises `nox.FieldError` for a layer that is not a module, bound method or
    registered function.

    Examples:
        >>> import jax, jax.numpy as jnp, noxjax as nox
        >>> model = nox.Sequential([jax.nn.relu, jax.nn.relu])
        >>> model(jnp.array([-1.0, 2.0])), len(model)
        (Array([0., 2.], dtype=float32), 2)
    """

    layers: tuple[Callable[..., Any], ...]

    def __init__(self, layers: Iterable[Callable[..., Any]]) -> None:
        object.__setattr__(self, "layers", tuple(layers))

    def __call__(self, x: Any, /) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    @overload
    def __getitem__(self, index: int) -> Callable[..., Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...
    def __getitem__(self, index: int | slice) -> Callable[..., Any] | Sequential:
        if isinstance(index, slice):
            return Sequential(self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        return iter(self.layers)
