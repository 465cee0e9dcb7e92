"""The `brygga` command. One function per subcommand; `main(argv)` returns the exit code.

Subcommands are registered in `build_parser()`: add a `_add_<name>(subparsers)` and a `cmd_<name>(args)`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from brygga.mapping import InvalidSource, MappingConfigError, MappingFailed, compile_mapping
from brygga.mapping.lint import lint_mappings

DEFAULT_MAPPINGS = Path("mappings")


def parse_context(pairs: Sequence[str]) -> dict[str, Any]:
    """``["tenant.kommunkod=1881", "tenant.name=Kumla kommun"]`` -> ``{"tenant": {...}}``. Values stay text."""
    context: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--context expects key=value, got {pair!r}")
        *parents, leaf = key.strip().split(".")
        node = context
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"--context {key}: {part} is already a value")
            node = child
        node[leaf] = value
    return context


def cmd_translate(args: argparse.Namespace) -> int:
    try:
        context = parse_context(args.context)
    except ValueError as exc:
        print(f"brygga translate: {exc}", file=sys.stderr)
        return 2
    try:
        mapping = compile_mapping(args.mapping)
    except MappingConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        data = Path(args.input).read_bytes()
    except OSError as exc:
        print(f"input {args.input}: cannot read: {exc.strerror or exc.__class__.__name__}", file=sys.stderr)
        return 1
    try:
        case = mapping.run(data, context=context or None, source_name=f"input {args.input}")
    except InvalidSource as exc:
        print(exc, file=sys.stderr)
        return 1
    except MappingFailed as failed:
        for problem in failed.problems:
            print(problem, file=sys.stderr)
        return 1
    print(json.dumps(case, ensure_ascii=False, indent=2))
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    paths = args.paths or [DEFAULT_MAPPINGS]
    errors = lint_mappings(paths)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print("ok")
    return 0


def _add_translate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("translate", help="run one mapping on one input file and print the result as JSON")
    p.add_argument("--mapping", required=True, type=Path, help="the mapping file (YAML)")
    p.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                   help="run-time context, e.g. tenant.kommunkod=1881 (repeatable; over the mapping's defaults)")
    p.add_argument("input", type=Path, help="the input document (XML or JSON, as the mapping declares)")
    p.set_defaults(func=cmd_translate)


def _add_lint(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lint", help="check every mapping (schema + compile) and fixture suite")
    p.add_argument("paths", nargs="*", type=Path, help=f"files or folders (default: {DEFAULT_MAPPINGS}/)")
    p.set_defaults(func=cmd_lint)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brygga", description="Brygga: e-service submissions into case systems.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_translate(sub)
    _add_lint(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
