"""The `brygga` command. One function per subcommand; `main(argv)` returns the exit code.

Subcommands are registered in `build_parser()`: add a `_add_<name>(subparsers)` and a `cmd_<name>(args)`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from brygga.errors import ConfigError
from brygga.mapping import InvalidSource, MappingConfigError, MappingFailed, compile_mapping
from brygga.mapping.lint import lint_mappings
from brygga.settings import Settings

# Commands that live outside the core (e.g. `demo`, which runs Airflow) register under this group.
COMMAND_GROUP = "brygga.commands"


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


def _mapping_path(given: Path) -> Path:
    """A path as given, or else relative to the mappings folder: ``--mapping open-eplatform/bygglov.yaml``."""
    if given.exists() or given.is_absolute():
        return given
    in_mappings = Settings.from_env().mappings_dir / given
    return in_mappings if in_mappings.exists() else given


def cmd_translate(args: argparse.Namespace) -> int:
    try:
        context = parse_context(args.context)
    except ValueError as exc:
        print(f"brygga translate: {exc}", file=sys.stderr)
        return 2
    try:
        mapping = compile_mapping(_mapping_path(args.mapping))
    except MappingConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        case = mapping.run(Path(args.input), context=context or None, source_name=f"input {args.input}")
    except OSError as exc:
        print(f"input {args.input}: cannot read: {exc.strerror or exc.__class__.__name__}", file=sys.stderr)
        return 1
    except InvalidSource as exc:
        print(exc, file=sys.stderr)
        return 1
    except MappingFailed as failed:
        for problem in failed.problems:
            print(problem, file=sys.stderr)
        return 1
    print(json.dumps(case, ensure_ascii=False, indent=2))
    return 0


def lint_routes(settings: Settings) -> list[str]:
    from brygga.routes import load_routes

    try:
        routes = load_routes(settings.routes_file, settings.mappings_dir)
    except ConfigError as exc:
        return [str(exc)]
    errors = []
    for route in routes:
        mapping = compile_mapping(route.mapping)
        if mapping.output_schema != "canonical/case.v1":
            errors.append(f"{settings.routes_file}: route {route.id}: inbound mapping {route.mapping} must declare "
                          "output_schema: canonical/case.v1")
    return errors


def cmd_lint(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    errors = lint_mappings(args.paths or [settings.mappings_dir])
    if not args.paths:
        errors += lint_routes(settings)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print("ok")
    return 0


def _add_translate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("translate", help="run one mapping on one input file and print the result as JSON")
    p.add_argument("--mapping", required=True, type=Path,
                   help="the mapping file (YAML), or its path under the mappings folder (BRYGGA_MAPPINGS)")
    p.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                   help="run-time context, e.g. tenant.kommunkod=1881 (repeatable; over the mapping's defaults)")
    p.add_argument("input", type=Path, help="the input document (XML or JSON, as the mapping declares)")
    p.set_defaults(func=cmd_translate)


def _add_lint(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lint", help="check the routes file, every mapping (schema + compile) and fixture suite")
    p.add_argument("paths", nargs="*", type=Path, help="mapping files or folders (default: the routes file and "
                   "every mapping under BRYGGA_MAPPINGS, ./mappings)")
    p.set_defaults(func=cmd_lint)


def _ledger():  # type: ignore[no-untyped-def]
    from brygga.ledger import Ledger

    return Ledger(Settings.from_env().database_url)


def cmd_find(args: argparse.Namespace) -> int:
    from brygga.admin import describe

    ledger = _ledger()
    found = ledger.find(args.term)
    if not found:
        print(f"no submission matches {args.term!r} (id, source reference or diarienummer)", file=sys.stderr)
        return 1
    for submission in found:
        print("\n".join(describe(ledger, submission)))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from brygga.admin import replay

    try:
        done = replay(_ledger(), args.submission_id)
    except (LookupError, ValueError) as exc:
        print(f"brygga replay: {exc}", file=sys.stderr)
        return 1
    print(f"submission {done.submission_id} released from quarantine as {done.from_state}; "
          "the route's next run takes it")
    return 0


def _add_find(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("find", help="find a submission by id, the e-service's reference or the diarienummer")
    p.add_argument("term")
    p.set_defaults(func=cmd_find)


def _add_replay(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="release a quarantined submission so the next run handles it again")
    p.add_argument("submission_id")
    p.set_defaults(func=cmd_replay)


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry or LOGNAME
        return "unknown"


def cmd_purge(args: argparse.Namespace) -> int:
    from brygga.retention import format_duration, purge
    from brygga.routes import load_routes

    settings = Settings.from_env()
    try:
        routes = load_routes(settings.routes_file, settings.mappings_dir)
        reports = purge(_ledger(), settings, routes, route_id=args.route, apply=args.apply,
                        actor=args.actor or _os_user())
    except ConfigError as exc:
        print(f"brygga purge: {exc}", file=sys.stderr)
        return 1
    except LookupError as exc:
        print(f"brygga purge: {exc}", file=sys.stderr)
        return 2
    if not reports:
        which = f"route {args.route} has no retention" if args.route else "no route has a retention"
        print(f"{which} (retention.keep_for in {settings.routes_file}): nothing to purge")
        return 0
    if not args.apply:
        print("dry run: nothing is changed; run with --apply to purge")
    verb, freed = ("purged", "bytes freed") if args.apply else ("due", "bytes to free")
    total = total_bytes = 0
    for report in reports:
        counts = report.counts()
        print(f"route {report.route_id} (keep_for {format_duration(report.keep_for)}; done before "
              f"{report.cutoff:%Y-%m-%d %H:%M} UTC): {verb} {counts['purged']} submission(s), "
              f"{counts['raw_files']} raw file(s), {counts['attachment_files']} attachment file(s), "
              f"{counts['bytes']:,} {freed}")
        for item in report.purged:
            what = "raw file landed again after the purge" if item.relanded else (
                f"{item.state}, raw file {'yes' if item.raw_deleted else 'no'}, {item.attachments_deleted} "
                f"attachment file(s) ({item.attachments_kept} kept: still used)")
            print(f"  {item.submission_id}  {what}  {item.bytes_freed:,} bytes")
        for submission_id, why in report.held_back:
            print(f"  {submission_id}  held back: {why}")
        total += counts["purged"] + counts["relanded"]
        total_bytes += counts["bytes"]
    print(f"total: {verb} {total} submission(s), {total_bytes:,} {freed}")
    return 0


def _add_purge(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "purge", help="gallring: purge personal data of submissions whose retention has run out (dry run by default)",
        description="Gallring (retention). For every route with retention.keep_for in the routes file, lists the "
                    "completed submissions (and duplicates and superseded versions) done longer ago than keep_for: "
                    "their raw file, their attachments (when no other submission uses them), their canonical case "
                    "and their file name. Quarantined and unfinished submissions are never purged. Without --apply "
                    "nothing is changed. With --apply it deletes them and writes one audit entry per submission; "
                    "the ledger keeps ids, states, times, the diarienummer, the archive package and hashes. "
                    "Safe to run again: a second run finds nothing. See docs/retention.md.")
    p.add_argument("--route", metavar="ID", help="only this route (default: every route with a retention)")
    p.add_argument("--apply", action="store_true", help="purge for real and audit it (default: a dry run)")
    p.add_argument("--actor", metavar="NAME", help="who purges, for the audit log (default: the OS user)")
    p.set_defaults(func=cmd_purge)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brygga", description="Brygga: e-service submissions into case systems.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_translate(sub)
    _add_lint(sub)
    _add_find(sub)
    _add_replay(sub)
    _add_purge(sub)
    for plugin in entry_points(group=COMMAND_GROUP):
        plugin.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
