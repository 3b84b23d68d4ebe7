from __future__ import annotations

import jax
import pytest
from hypothesis import HealthCheck, settings


from models import Linear as Linear

# JAX compiles on first use, so a single example can be slow: no per-example deadline.
settings.register_profile("noxjax", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("noxjax")


@pytest.fixture
def linear() -> Linear:
    return Linear.init(jax.random.key(0), 3, 2)
