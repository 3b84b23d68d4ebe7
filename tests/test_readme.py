"""The README's Python examples run as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the checkpoint example writes model.nox
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    module = types.ModuleType("readme_examples")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in blocks:
        exec(compile(block, str(README), "exec"), module.__dict__)  # noqa: S102
    assert module.ys.shape == (8, 4) and module.outs.shape == (2, 4)
    assert (tmp_path / "model.nox").exists()
