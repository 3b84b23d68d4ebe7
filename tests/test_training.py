"""The seed example and a real optax training loop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

import noxjax as nox
import resume_run
from conftest import Linear


class MLP(nox.Module):
    layers: tuple[Linear, ...]
    activation: str = "tanh"

    @classmethod
    def init(cls, key: jax.Array, sizes: tuple[int, ...]) -> "MLP":
        keys = jax.random.split(key, len(sizes) - 1)
        return cls(tuple(Linear.init(k, a, b) for k, a, b in zip(keys, sizes[:-1], sizes[1:])))

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = getattr(jnp, self.activation)(layer(x))
        return self.layers[-1](x)


def test_seed_example_sequential_jit_grad() -> None:
    keys = jax.random.split(jax.random.key(0), 2)
    model = nox.Sequential([Linear.init(keys[0], 3, 8), jax.nn.relu, Linear.init(keys[1], 8, 1)])
    x = jnp.ones(3)
    y = model(x)
    assert jnp.allclose(jax.jit(lambda m, x: m(x))(model, x), y)
    grads = jax.grad(lambda m: m(x).sum())(model)
    assert isinstance(grads, nox.Sequential) and grads.layers[1] is jax.nn.relu
    assert grads.layers[0].w.shape == (8, 3)


def test_mlp_trains_with_adam() -> None:
    key_data, key_model = jax.random.split(jax.random.key(42))
    xs = jax.random.uniform(key_data, (256, 2), minval=-1, maxval=1)
    ys = jnp.sin(3 * xs[:, :1]) * xs[:, 1:]
    model = MLP.init(key_model, (2, 32, 32, 1))
    optimizer = optax.adam(1e-2)
    opt_state = optimizer.init(model)

    def loss_fn(m: MLP) -> jax.Array:
        return jnp.mean((jax.vmap(m)(xs) - ys) ** 2)

    @jax.jit
    def step(m: MLP, state: optax.OptState) -> tuple[MLP, optax.OptState, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(m)
        updates, state = optimizer.update(grads, state, m)
        return optax.apply_updates(m, updates), state, loss

    first = float(loss_fn(model))
    for _ in range(300):
        model, opt_state, loss = step(model, opt_state)
    assert isinstance(model, MLP) and model.activation == "tanh"
    assert float(loss) < 0.01 < first


def test_jaxtyping_annotations_as_field_types() -> None:
    class Typed(nox.Module):
        w: Float[Array, "out in"]
        b: Float[Array, " out"]

        def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
            return self.w @ x + self.b

    m = Typed(jnp.ones((2, 3)), jnp.zeros(2))
    assert jax.jit(lambda m, x: m(x))(m, jnp.ones(3)).tolist() == [3.0, 3.0]


def test_a_killed_run_resumes_bit_identically(tmp_path: Path) -> None:
    script = str(Path(__file__).resolve().parent / "resume_run.py")

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(nox.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}

    def run(*args: str) -> subprocess.CompletedProcess[str]:  # the noxjax this test imported
        return subprocess.run([sys.executable, script, *args], capture_output=True, text=True, timeout=300, env=env)

    full, ckpt, resumed = (str(tmp_path / name) for name in ("full.nox", "ckpt.nox", "resumed.nox"))
    assert run("full", "12", full).returncode == 0
    crashed = run("crash", "5", ckpt)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    finished = run("resume", "12", ckpt, resumed)
    assert finished.returncode == 0, finished.stderr
    a, b = nox.load(full), nox.load(resumed)
    assert a["step"] == b["step"] == 12 and jax.tree.structure(a) == jax.tree.structure(b)
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    assert jax.tree.structure(a) == jax.tree.structure(resume_run.start())  # parameters, optax states, key
    for x, y in zip(leaves_a, leaves_b):
        if not nox.is_array(x):  # the step
            assert type(x) is type(y) and x == y
            continue
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        assert x.dtype == y.dtype and np.array_equal(np.asarray(x), np.asarray(y))  # bit for bit
    assert not np.array_equal(np.asarray(a["model"].layers[0].w), np.asarray(nox.load(ckpt)["model"].layers[0].w))
