"""Every ```python block of the README and of docs/ runs as written, page by page
in one namespace, in a fresh directory. (```py blocks are shown, not run: they
are deliberate type errors or need several hosts.)"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _has_orbax() -> bool:
    try:
        import noxjax.orbax  # noqa: F401
    except ImportError:
        return False
    return True


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_python_blocks_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: Path) -> None:
    monkeypatch.chdir(tmp_path)  # examples write checkpoints
    if any("import noxjax.orbax" in block for block in python_blocks(page)) and not _has_orbax():
        pytest.skip(f"{page.name} uses noxjax.orbax, which needs orbax-checkpoint>=0.12")
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")  # classes defined here get a module
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in python_blocks(page):
        exec(compile(block, str(page), "exec"), module.__dict__)  # noqa: S102


def test_every_page_but_the_format_spec_has_examples() -> None:
    assert all(python_blocks(page) for page in PAGES if page.name not in ("format.md", "api.md"))


def test_readme_examples_did_what_they_say(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("readme_examples")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in python_blocks(ROOT / "README.md"):
        exec(compile(block, "README.md", "exec"), module.__dict__)  # noqa: S102
    assert module.ys.shape == (8, 4) and module.outs.shape == (2, 4)
    assert (tmp_path / "model.nox").exists()


def test_the_docs_build_fails_on_a_public_name_without_an_example(monkeypatch: pytest.MonkeyPatch) -> None:
    exceptions = pytest.importorskip("mkdocs.exceptions")
    pytest.importorskip("noxjax.orbax")
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    config = object()
    assert hooks.on_config(config) is config
    import noxjax

    def undocumented() -> None: ...

    monkeypatch.setattr(noxjax, "undocumented", undocumented, raising=False)
    monkeypatch.setattr(noxjax, "__all__", [*noxjax.__all__, "undocumented"])
    with pytest.raises(exceptions.PluginError, match="public names without a docstring example: noxjax.undocumented"):
        hooks.on_config(config)
