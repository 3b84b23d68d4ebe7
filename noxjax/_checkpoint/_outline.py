"""`outline`: a checkpoint header rendered as text, in time and space linear in its size.

Nothing is resolved: class and function names are printed as the file spells them,
with control characters escaped. A node is printed on one line when it fits in the
width, found by a bounded attempt (never more than the width is built), else one
child per line; indentation stops growing at `_MAX_INDENT`, so deep nesting cannot
make the output quadratic.
"""

from __future__ import annotations

from typing import Any, Union, cast

from .._errors import FormatError
from . import _tags as tags

__all__ = ["outline", "printable"]

_WIDTH = 88
_MAX_INDENT = 40
_MAX_DEPTH = 200
_BAD = "<?>"

# A node is either its text, or (opening, [(label, child), ...], closing).
_Parts = Union[str, tuple[str, list[tuple[str, Any]], str]]


def printable(text: str) -> str:
    """`text` with control and other non-printable characters escaped."""
    return text if text.isprintable() else repr(text)[1:-1]


def outline(node: object, arrays: list[str]) -> str:
    """The header tree `node`; `arrays` labels each array (`f32[3,4]`). Malformed parts
    render as `<?>`."""
    out: list[str] = []
    _Outline(arrays, out).emit(node, 0)
    return "".join(out)


class _Outline:
    def __init__(self, arrays: list[str], out: list[str]) -> None:
        self.arrays = arrays
        self.out = out

    def emit(self, node: object, depth: int) -> None:
        indent = min(2 * depth, _MAX_INDENT)
        flat = self.flat(node, _WIDTH - indent, depth)
        if flat is not None:
            self.out.append(flat)
            return
        parts = self.parts(node, depth)
        if isinstance(parts, str):
            self.out.append(parts)
            return
        opening, children, closing = parts
        inner = " " * min(indent + 2, _MAX_INDENT)
        self.out.append(opening + "\n")
        for label, child in children:
            self.out.append(inner + label)
            self.emit(child, depth + 1)
            self.out.append(",\n")
        self.out.append(" " * indent + closing.lstrip(","))

    def flat(self, node: object, budget: int, depth: int) -> str | None:
        """`node` on one line if that takes at most `budget` characters."""
        parts = self.parts(node, depth)
        if isinstance(parts, str):
            return parts if len(parts) <= budget and "\n" not in parts else None
        opening, children, closing = parts
        pieces, used = [opening], len(opening) + len(closing)
        for i, (label, child) in enumerate(children):
            used += len(label) + (2 if i else 0)
            text = self.flat(child, budget - used, depth + 1) if used <= budget else None
            if text is None:
                return None
            pieces.append((", " if i else "") + label + text)
            used += len(text)
        pieces.append(closing)
        return "".join(pieces) if used <= budget else None

    def parts(self, node: object, depth: int) -> _Parts:
        if node is None or type(node) in (bool, int, float, str):
            return repr(node)
        if depth > _MAX_DEPTH or not isinstance(node, dict):
            return _BAD
        try:
            return self._parts(cast("dict[str, Any]", node))
        except (KeyError, TypeError, IndexError, ValueError, FormatError, AttributeError):
            return _BAD

    def _parts(self, fields: dict[str, Any]) -> _Parts:
        tag = fields.get("t")
        if tag == tags.ARRAY:
            index = fields["i"]
            return self.arrays[index] if type(index) is int and index >= 0 else _BAD
        if tag in (tags.TUPLE, tags.LIST):
            items = [("", v) for v in _items(fields["v"])]
            closing = (",)" if len(items) == 1 else ")") if tag == tags.TUPLE else "]"
            return ("(" if tag == tags.TUPLE else "[", items, closing)
        if tag in (tags.DICT, tags.FROZEN_DICT):
            frozen = tag == tags.FROZEN_DICT
            pairs = [(f"{printable(repr(k))}: ", v) for k, v in _pairs(fields)]
            return ("FrozenDict({" if frozen else "{", pairs, "})" if frozen else "}")
        if tag == tags.MODULE:
            named = cast("dict[object, Any]", _mapping(fields["f"]))
            return (f"{_name(fields['c'])}(", [(f"{_name(k)}=", v) for k, v in named.items()], ")")
        if tag in (tags.NODE, tags.NAMEDTUPLE):
            return (f"{_name(fields['c'])}(", [(f"{_name(k)}=", v) for k, v in _pairs(fields)], ")")
        if tag == tags.METHOD:
            return (f"<method {_name(fields['c'])}.{_name(fields['n'])} of ", [("", fields["s"])], ">")
        if tag in (tags.FUNCTION, tags.MODULE_CLASS, tags.BIG_INT):
            return _name(fields["v"])
        if tag in (tags.DTYPE, tags.SCALAR_TYPE):
            return f"{_name(fields.get('ns', 'np'))}.{_name(fields['v'])}"
        if tag == tags.COMPLEX:
            real, imag = cast("list[float]", fields["v"])
            return repr(complex(real, imag))
        if tag == tags.PARTIAL:
            return ("partial(", [("", fields["f"])], ", ...)")
        return _BAD


def _name(value: object) -> str:
    return printable(value) if isinstance(value, str) else _BAD


def _items(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return value  # pyright: ignore[reportUnknownVariableType]


def _mapping(value: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise TypeError("not a map")
    return value  # pyright: ignore[reportUnknownVariableType]


def _pairs(fields: dict[str, Any]) -> list[tuple[Any, Any]]:
    return list(zip(_items(fields["k"]), _items(fields["v"])))
