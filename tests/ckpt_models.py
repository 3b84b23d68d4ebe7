"""Modules with stable names, importable by the subprocess round-trip tests."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

import noxjax as nox


def scaled_tanh(x: jax.Array) -> jax.Array:
    return 2 * jnp.tanh(x)


nox.register_function(scaled_tanh, "tests.scaled_tanh")


class Leaf(nox.Module, name="tests.Leaf"):
    w: Any
    note: Any = None

    def double(self, x: jax.Array) -> jax.Array:
        return 2 * self.w * x


class Holder(nox.Module, name="tests.Holder"):
    statics: Any
    arrays: Any
    fn: Any = jax.nn.relu
    dtype: Any = jnp.float32


JAX_DTYPES = [
    jnp.bool_, jnp.int4, jnp.int8, jnp.int16, jnp.int32, jnp.uint4, jnp.uint8, jnp.uint16, jnp.uint32,
    jnp.float16, jnp.bfloat16, jnp.float32, jnp.complex64,
] + [  # every narrow float and int type this JAX has (newer releases add more)
    getattr(jnp, n)
    for n in (
        "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3b11fnuz",
        "float8_e3m4", "float8_e4m3", "float8_e8m0fnu", "float4_e2m1fn", "int2", "uint2",
    )
    if hasattr(jnp, n)
]
NUMPY_ONLY = [np.float64, np.int64, np.uint64, np.complex128]  # JAX needs x64 for these


def arrays() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, dtype in enumerate(JAX_DTYPES):
        out[f"jax_{np.dtype(dtype).name}"] = jnp.arange(6).reshape(2, 3).astype(dtype) if dtype != jnp.bool_ else jnp.array([True, False])
        out[f"scalar_{i}"] = jnp.asarray(1, dtype)
    for dtype in NUMPY_ONLY:
        out[f"np_{np.dtype(dtype).name}"] = (np.arange(4) - 1).astype(dtype)
    out["empty"] = jnp.zeros((0, 3))
    out["key"] = jax.random.key(7)
    out["keys"] = jax.random.split(jax.random.key(1), 3)
    out["raw_key"] = jax.random.PRNGKey(3)
    out["bf16_np"] = np.ones(2, ml_dtypes.bfloat16)
    return out


def build() -> Any:
    statics = (
        "text", 3, 2.5, True, None, 1 + 2j, -(2**70), float("inf"),
        (1, (2, (3,))), [1, [2]], {"a": 1, 2: "b"}, nox.FrozenDict({"z": 0, "y": (1.0,)}),
        np.dtype("bfloat16"), jnp.bfloat16, np.float32, float, scaled_tanh,
    )
    leaf = Leaf(jnp.ones(3), note=(jax.nn.gelu, "x"))
    model = nox.Sequential([Leaf(jnp.ones((2, 2))), jax.nn.relu, leaf])
    holder = Holder(statics=statics, arrays=arrays())
    return {
        "model": model,
        "holder": holder,
        "method": leaf.double,
        "top": [1, (2, [3.0])],
        "int_keys": {1: jnp.ones(1), 2: "two"},
    }


def scaled_tanh_loss(model: Leaf) -> jax.Array:
    return jnp.sum(scaled_tanh(model.w))


nox.register_function(scaled_tanh_loss, "tests.scaled_tanh_loss")


def scale_in_child(model: object) -> object:
    """Run in a spawned process: the model arrives pickled and goes back the same way."""
    import noxjax as nox

    assert nox.is_module(model)
    return model
