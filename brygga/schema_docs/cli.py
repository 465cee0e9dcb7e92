"""`brygga docs [--out DIR]`: write the schema reference pages (`make docs`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brygga.cli_parsers import add_command

DEFAULT_OUT = Path("var") / "docs"


def cmd_docs(args: argparse.Namespace) -> int:
    from brygga.schema_docs.render import DocsFolderInUse, build_docs

    try:
        site = build_docs(args.out)
    except DocsFolderInUse as exc:
        print(f"brygga docs: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(site.pages)} schema pages and {len(site.schemas)} schema files; open {site.index}")
    return 0


def add_docs(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "docs", func=cmd_docs,
        help="write the schema reference pages (HTML) for vendors",
        description="Write a static site, readable offline, with one page per canonical schema (the case, each case "
                    "type, the status event, and the case schema of the last release): every field with its type, "
                    "constraints, description and examples, the valid examples, and the invalid ones with the errors "
                    "they produce in Swedish and English. Each schema file is there to download. The folder is "
                    "replaced on each run; one holding other files is refused (exit 2).",
        examples=["brygga docs", "brygga docs --out /srv/www/brygga-schemas"])
    parser.add_argument("--out", metavar="DIR", type=Path, default=DEFAULT_OUT,
                        help=f"the folder to write (default: {DEFAULT_OUT}); open DIR/index.html in a browser")
