"""A jaxtyping-checked module defined in a file without `from __future__ import annotations`."""

from beartype import beartype
from jaxtyping import Array, Float, jaxtyped

import noxjax as nox


@jaxtyped(typechecker=beartype)
class Dense(nox.Module):
    w: Float[Array, "out in"]
    b: Float[Array, " out"]

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.w @ x + self.b


