"""Multi-host for real: two processes on localhost, 4 CPU devices each, gloo
collectives, train data-parallel, save with noxjax.orbax; a fresh two-process job
and a one-process job restore and continue; all equal an uninterrupted run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("orbax.checkpoint", minversion="0.12")
import jax  # noqa: E402

import noxjax as nox  # noqa: E402

RUN = Path(__file__).with_name("multihost_run.py")
TIMEOUT = 180  # seconds for one job; a hung job is killed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def _job(action: str, processes: int, directory: Path) -> None:
    port = str(_free_port())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(nox.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    procs = [
        subprocess.Popen([sys.executable, str(RUN), str(i), str(processes), port, action, str(directory)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        for i in range(processes)
    ]
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=TIMEOUT)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for i, (p, out) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0, f"{action} process {i} failed:\n{out[-4000:]}"
        assert f"process {i}: {action} done" in out


def test_two_hosts_train_save_and_resume_like_one_uninterrupted_run(tmp_path: Path) -> None:
    _job("straight", 1, tmp_path)
    _job("start", 2, tmp_path)
    _job("resume", 2, tmp_path)
    _job("resume", 1, tmp_path)
    reference = nox.load(tmp_path / "straight-1.nox")
    for name in ("resume-2.nox", "resume-1.nox"):
        resumed = nox.load(tmp_path / name)
        assert sorted(resumed) == ["b1", "b2", "w1", "w2"]
        for x, y in zip(jax.tree_util.tree_leaves(resumed), jax.tree_util.tree_leaves(reference)):
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)
