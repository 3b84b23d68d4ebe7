"""The examples gallery runs (shortened) and does what it says."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import noxjax as nox

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script: str, *args: str, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(nox.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def needs(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs the examples extra ({', '.join(missing)})")


@needs("sklearn", "matplotlib", "tqdm", "optax")
def test_digits_classifier_learns_and_plots(tmp_path: Path) -> None:
    out = run("digits.py", "--steps", "300", "--out", str(tmp_path), cwd=tmp_path)
    accuracy = float(re.search(r"test accuracy: ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    assert accuracy > 0.85, out
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs("optax")
def test_ensemble_members_train_and_disagree_off_the_data(tmp_path: Path) -> None:
    out = run("ensemble.py", "--steps", "300", cwd=tmp_path)
    spread = re.search(r"spread at x=0.5 \(trained\): ([\d.]+); at x=4.0 \(never seen\): ([\d.]+)", out)
    assert spread and float(spread.group(1)) < float(spread.group(2)), out
    assert "8 members, each an MLP" in out


@needs("optax")
def test_deep_scan_matches_the_loop_and_trains(tmp_path: Path) -> None:
    out = run("deep_scan.py", "--steps", "100", "--depth", "16", cwd=tmp_path)
    losses = [float(v) for v in re.findall(r"loss ([\d.]+)", out)]
    assert "nox.Scan" in out and losses[-1] < losses[0] / 2, out


@needs("optax")
def test_resume_is_bit_for_bit(tmp_path: Path) -> None:
    out = run("resume.py", "--steps", "40", "--every", "10", "--dir", str(tmp_path / "ckpt"), cwd=tmp_path)
    assert "identical to the uninterrupted one, bit for bit: True" in out
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [f"step{s:06d}.nox" for s in (10, 20, 30, 40)]


def _old_optax() -> bool:
    import optax

    return tuple(int(p) for p in optax.__version__.split(".")[:3]) < (0, 2, 4)


@needs("optax")
@pytest.mark.skipif(importlib.util.find_spec("optax") is not None and _old_optax(),
                    reason="optax < 0.2.4 calls any callable mask tree, and modules with __call__ are callable")
def test_finetune_leaves_the_body_unchanged(tmp_path: Path) -> None:
    out = run("finetune.py", "--steps", "100", cwd=tmp_path)
    assert "partition: body unchanged: True; head changed: True" in out
    assert "multi_transform: body unchanged: True; head changed: True" in out
