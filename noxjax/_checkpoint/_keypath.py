"""`Path`: where a decoder is in a file's tree, for error messages.

A path links to its parent, so a child's path costs one small object whatever its
depth or the length of its keys; the `keystr`-style text is built only when an
error is raised, and a huge one is shortened. (Built eagerly, paths under one long
key grew memory with the product of the key's length and the number of nodes.)
"""

from __future__ import annotations

__all__ = ["Path", "ROOT"]

_SHOWN = 400  # characters of a path an error message shows at most


class Path:
    __slots__ = ("parent", "part")

    def __init__(self, parent: Path | None, part: object) -> None:
        self.parent = parent
        self.part = part

    def __add__(self, part: object) -> Path:
        return Path(self, part)

    def __bool__(self) -> bool:
        return self.parent is not None  # the root is empty, as keystr prints it

    def full(self) -> str:
        """The whole path, as `keystr` prints it (stored for each array of a file)."""
        return "".join(self._parts())

    def __str__(self) -> str:
        return _shortened("".join(_shortened(part) for part in self._parts()))

    def _parts(self) -> list[str]:
        parts: list[str] = []
        node = self
        while node.parent is not None:
            parts.append(str(node.part))
            node = node.parent
        return parts[::-1]


def _shortened(text: str) -> str:
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN // 2]}...{text[-_SHOWN // 2 :]}"


ROOT = Path(None, "")
