"""Runs `tests/multidevice/` on 8 CPU devices: XLA reads the device count when JAX
starts, so the tests run in a fresh process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_multidevice_suite_passes_on_8_cpu_devices() -> None:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", str(HERE / "multidevice")],
        cwd=HERE.parent, env=env, capture_output=True, text=True, timeout=600,
    )
    summary = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, summary
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 10, summary
    assert "failed" not in result.stdout.splitlines()[-1], summary
