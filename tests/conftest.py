from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from jax.sharding import Mesh


from models import Linear as Linear

# JAX compiles on first use, so a single example can be slow: no per-example deadline.
settings.register_profile("noxjax", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("noxjax")


@pytest.fixture
def linear() -> Linear:
    return Linear.init(jax.random.key(0), 3, 2)


# tests/multidevice/ needs 8 devices: tests/test_multidevice.py runs it in a process
# started with XLA_FLAGS=--xla_force_host_platform_device_count=8.
collect_ignore_glob = [] if jax.device_count() >= 8 else ["multidevice/*"]


@pytest.fixture
def mesh() -> Mesh:
    """A (2, 4) mesh of 8 devices, axes ("data", "model")."""
    return Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("data", "model"))
