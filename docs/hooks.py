"""mkdocs hook: the build fails if a public name has no docstring or example."""

from __future__ import annotations

import inspect
from typing import Any

from mkdocs.exceptions import PluginError


def on_config(config: Any) -> Any:
    import noxjax
    import noxjax.orbax

    names = [(f"noxjax.{n}", getattr(noxjax, n)) for n in noxjax.__all__]
    names += [(f"noxjax.orbax.{n}", getattr(noxjax.orbax, n)) for n in noxjax.orbax.__all__]
    missing = [name for name, obj in names if ">>>" not in (inspect.getdoc(obj) or "")]
    if missing:
        raise PluginError(f"public names without a docstring example: {', '.join(missing)}")
    return config
