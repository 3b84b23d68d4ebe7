"""`python -m noxjax inspect FILE`: print a checkpoint's tree, shapes, dtypes and sizes."""

from __future__ import annotations

import argparse
import sys

from ._errors import FormatError
from ._checkpoint import inspect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m noxjax", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    inspect_parser = commands.add_parser("inspect", help="print what a noxjax file holds (header only)")
    inspect_parser.add_argument("file")
    args = parser.parse_args(argv)
    try:
        print(inspect(args.file))
    except (FormatError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
