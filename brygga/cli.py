"""The `brygga` command. One function per subcommand; `main(argv)` returns the exit code.

Subcommands are registered in `build_parser()`: add a `_add_<name>(subparsers)` (with brygga.cli_parsers'
add_command, which gives every command the same help layout) and a `cmd_<name>(args)`. The administrator's commands
(list, find, trace, quarantine, health, replay) are in brygga.admin.cli. Exit codes, for
every command (docs/cli.md): 0 ok, 1 nothing found or refused, 2 usage, 3 ledger or configuration missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any

from brygga.admin.cli import add_admin
from brygga.bus.cli import add_bus
from brygga.catalog.api_cli import add_validation_api
from brygga.catalog.cli import add_validate
from brygga.catalog.inputs import inbound_mapping
from brygga.cli_exits import EXIT_CODES, MISSING
from brygga.cli_ledger import open_ledger, os_user
from brygga.cli_parsers import Parser, add_command, add_group, examples_epilog
from brygga.errors import ConfigError
from brygga.ledger.open import LedgerMissing
from brygga.mapping import CompiledMapping, InvalidSource, MappingConfigError, MappingFailed, compile_mapping
from brygga.mapping.lint import checked, lint_mappings
from brygga.routes import load_routes
from brygga.routes_lint import lint_routes
from brygga.schema_docs.cli import add_docs
from brygga.settings import Settings
from brygga.status.cli import add_status

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


def _translation_mapping(args: argparse.Namespace, context: dict[str, Any]) -> tuple[CompiledMapping, dict[str, Any]]:
    """The mapping named by --mapping, or the one that accepts the input among --route's mappings (or every
    route's): the same dispatch by e-service as a route run. The route's context goes under --context."""
    if args.mapping is not None:
        return compile_mapping(_mapping_path(args.mapping)), context
    return inbound_mapping(Path(args.input), route=args.route, context=context, source_name=f"input {args.input}")


def cmd_translate(args: argparse.Namespace) -> int:
    try:
        context = parse_context(args.context)
    except ValueError as exc:
        print(f"brygga translate: {exc}", file=sys.stderr)
        return 2
    try:
        mapping, context = _translation_mapping(args, context)
        case = mapping.run(Path(args.input), context=context or None, source_name=f"input {args.input}")
    except (MappingConfigError, ConfigError) as exc:
        print(exc, file=sys.stderr)
        return 1
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


def cmd_lint(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    errors = lint_mappings(args.paths or [settings.mappings_dir])
    if not args.paths:
        try:
            routes_errors = lint_routes(settings)
            errors += routes_errors + lint_status(settings, routes_valid=not routes_errors)
        except Exception as exc:  # a mapping the routes name that cannot even load: say so, no traceback
            why = "a mapping it names cannot be loaded (above)" if errors else f"{type(exc).__name__}: {exc}"
            errors.append(f"{settings.routes_file}: not checked: {why}")
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print("ok")
    return 0


def lint_status(settings: Settings, *, routes_valid: bool = True) -> list[str]:
    """The status vocabularies and their suites, and the routes file's status: section (when the rest of the routes
    file is valid: its errors are reported once, by lint_routes)."""
    from brygga.status.config import load_status_feeds
    from brygga.status.vocabulary import lint_vocabularies

    errors = lint_vocabularies(settings.mappings_dir)
    if routes_valid:
        try:
            load_status_feeds(settings.routes_file, settings.mappings_dir)
        except ConfigError as exc:
            errors.append(str(exc))
    return errors


def cmd_test(args: argparse.Namespace) -> int:
    from brygga.mapping.fixtures import load_suite
    from brygga.mapping.lint import mapping_files

    _, suites, errors = mapping_files(args.paths or [Settings.from_env().mappings_dir])
    passed = failed = 0
    for suite in suites:
        try:
            cases = load_suite(suite)
        except Exception:  # a broken suite or mapping: one line naming the file and the place, no traceback
            errors += checked(load_suite, suite)
            continue
        for case in cases:
            failures = _run_case(case)
            passed, failed = passed + (not failures), failed + bool(failures)
            print(f"{'FAIL' if failures else 'ok  '}  {suite} :: {case.name}")
            for failure in failures:
                print(f"        {failure}")
    if not args.paths:  # the status vocabularies' suites (mappings/status/*_test.yaml) too
        from brygga.status.vocabulary import iter_suite_results

        for case, failures in iter_suite_results(Settings.from_env().mappings_dir):
            passed, failed = passed + (not failures), failed + bool(failures)
            print(f"{'FAIL' if failures else 'ok  '}  {case.suite} :: {case.name}")
            for failure in failures:
                print(f"        {failure}")
    for error in errors:
        print(error, file=sys.stderr)
    print(f"{passed} passed, {failed} failed, {len(suites)} suite(s)")
    return 1 if failed or errors or not suites else 0


def _run_case(case: Any) -> list[str]:
    """A fixture case's failures; a mapping that cannot be compiled fails its cases with its own error."""
    from brygga.mapping.fixtures import run_case

    try:
        return run_case(case)
    except Exception as exc:  # the mapping is broken: one line naming the file and the place, no traceback
        return checked(compile_mapping, case.mapping) or [f"cannot run: {type(exc).__name__}: {exc}"]


def _add_test(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "test", func=cmd_test,
                    help="run mapping fixture suites (*_test.yaml) and print each case's result",
                    description="Runs every fixture suite (name_test.yaml beside name.yaml, see mappings/README.md) "
                                "under the given files or folders, default the mappings folder (BRYGGA_MAPPINGS or "
                                "BRYGGA_CONFIG/mappings). Exit 0 when every case passed, 1 when one failed, a suite "
                                "is broken, or no suite was found.",
                    examples=["brygga test", "brygga test mappings/open-eplatform/bygglov_test.yaml",
                              "BRYGGA_CONFIG=/etc/brygga brygga test"])
    p.add_argument("paths", nargs="*", type=Path, help="suite files or folders (default: the mappings folder)")


def _add_translate(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "translate", func=cmd_translate,
                    help="run one mapping on one input file and print the result as JSON",
                    description="Translates one input file and prints the result. With --mapping, that mapping (it "
                                "still refuses an e-service it does not accept). Without it, the mapping is chosen "
                                "as a route run chooses it: the one that accepts the input's e-service, among "
                                "--route's inbound mappings or every route's. Exit 1 when the input cannot be "
                                "translated (each problem on stderr), 2 for a malformed --context.",
                    examples=["brygga translate samples/open-eplatform/bygglov-person.xml",
                              "brygga translate --route kumla-bygglov FILE",
                              "brygga translate --mapping open-eplatform/bygglov.yaml --context "
                              "tenant.kommunkod=1881 FILE"])
    which = p.add_mutually_exclusive_group()
    which.add_argument("--mapping", type=Path,
                       help="the mapping file (YAML), or its path under the mappings folder (BRYGGA_MAPPINGS)")
    which.add_argument("--route", metavar="ID", help="choose among this route's inbound mappings, with its tenant")
    p.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                   help="run-time context, e.g. tenant.kommunkod=1881 (repeatable; over the mapping's defaults)")
    p.add_argument("input", type=Path, help="the input document (XML or JSON, as the mapping declares)")


def _add_lint(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "lint", func=cmd_lint,
                    help="check the routes file, every mapping (schema + compile) and fixture suite",
                    description="Checks without running anything: every mapping file (schema, then compile), every "
                                "fixture suite's shape, and, without PATHS, the routes file and the status "
                                "vocabularies. Each problem is one line naming the file, the place in it and the "
                                "rule. Exit 0 and 'ok' when all is well, 1 when something is wrong.",
                    examples=["brygga lint", "brygga lint mappings/open-eplatform/bygglov.yaml",
                              "BRYGGA_CONFIG=/etc/brygga brygga lint"])
    p.add_argument("paths", nargs="*", type=Path, help="mapping files or folders (default: the routes file and "
                   "every mapping in the mappings folder: BRYGGA_MAPPINGS, else BRYGGA_CONFIG/mappings, else the "
                   "bundled examples)")


def cmd_purge(args: argparse.Namespace) -> int:
    from brygga.retention import format_duration, purge

    settings = Settings.from_env()
    try:
        routes = load_routes(settings.routes_file, settings.mappings_dir)
        reports = purge(open_ledger(), settings, routes, route_id=args.route, apply=args.apply,
                        actor=args.actor or os_user())
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
    p = add_command(
        sub, "purge", func=cmd_purge,
        help="gallring: purge personal data of submissions whose retention has run out (dry run by default)",
        description="Gallring (retention). For every route with retention.keep_for in the routes file, lists the "
                    "completed submissions (and duplicates and superseded versions) done longer ago than keep_for: "
                    "their raw file, their attachments (when no other submission uses them), their canonical case "
                    "and their file name. Quarantined and unfinished submissions are never purged. Without --apply "
                    "nothing is changed. With --apply it deletes them and writes one audit entry per submission; "
                    "the ledger keeps ids, states, times, the diarienummer, the archive package and hashes. "
                    "Safe to run again: a second run finds nothing. See docs/retention.md. Exit 1 when the routes "
                    "file is invalid, 2 for an unknown --route, 3 when there is no ledger.",
        examples=["brygga purge", "brygga purge --route kumla-bygglov", "brygga purge --apply"])
    p.add_argument("--route", metavar="ID", help="only this route (default: every route with a retention)")
    p.add_argument("--apply", action="store_true", help="purge for real and audit it (default: a dry run)")
    p.add_argument("--actor", metavar="NAME", help="who purges, for the audit log (default: the OS user)")


def _ref(ref: Any) -> str:
    if ref is None:
        return "-"
    where = f"connection {ref.connection}" if ref.connection else ", ".join(f"{k} {v}" for k, v in ref.config.items())
    return f"{ref.adapter} ({where})" if where else ref.adapter


def route_summary(settings: Settings, route: Any) -> dict[str, Any]:
    """One route as `brygga routes list` shows it: no secrets, only names."""
    return {
        "route": route.id,
        "tenant": f"{route.tenant.name} ({route.tenant.kommunkod})",
        "source": _ref(route.source),
        "e-services": {settings.shown(path): compile_mapping(path).describe_accepts() for path in route.mappings},
        "targets": {t.id: {"adapter": _ref(t), "case_types": {k: settings.shown(v) for k, v in t.mappings.items()},
                           **({"tenant": f"{t.tenant.name} ({t.tenant.kommunkod})"} if t.tenant else {}),
                           **({"when": t.when} if t.when else {}),
                           **({"archive": _ref(t.archive)} if t.archive else {})}
                    for t in route.targets},
        "without_case_system": list(route.without_case_system),
        "archive": _ref(route.archive),
        "notify": _ref(route.notify),
        "schedule": route.schedule,
    }


def cmd_routes(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        summaries = [route_summary(settings, r) for r in load_routes(settings.routes_file, settings.mappings_dir)]
    except (ConfigError, MappingConfigError) as exc:
        print(f"brygga routes: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summaries, ensure_ascii=False, indent=2))
        return 0
    print(f"routes file: {settings.routes_file}")
    for summary in summaries:
        print(f"\n{summary['route']}  {summary['tenant']}  schedule {summary['schedule'] or 'none (triggered)'}")
        print(f"  source:     {summary['source']}")
        for path, accepts in summary["e-services"].items():
            print(f"  e-service:  {accepts}  ->  {path}")
        if not summary["targets"]:
            print("  targets:    none (archive and notify only)")
        elif summary["without_case_system"]:
            print(f"  no target:  {', '.join(summary['without_case_system'])} (archive and notify only)")
        for target_id, target in summary["targets"].items():
            types = ", ".join(f"{k} -> {v}" for k, v in target["case_types"].items())
            print(f"  target:     {target_id}: {target['adapter']}: {types}")
            for key in ("tenant", "when", "archive"):
                if key in target:
                    print(f"                {key}: {target[key]}")
        print(f"  archive:    {summary['archive']}")
        print(f"  notify:     {summary['notify']}")
    return 0


RELEASED = "released"  # beside a kommun's case types: the copies its last release shipped


def _kommun_type_findings(settings: Settings) -> list[str]:
    """Breaking changes of the kommun's own case types against the copies in ``case-types/released/``."""
    from brygga.canonical import breaking_changes

    findings = []
    for folder in settings.case_types_dirs:
        for old in sorted((folder / RELEASED).glob("*.v1.json")):
            current = folder / old.name.replace(".v1.json", ".v1.schema.json")
            if not current.is_file():
                findings.append(f"{current}: released as {old}, and gone")
                continue
            findings += [f"{current}: {finding}" for finding in breaking_changes(_json(old), _json(current))]
    return findings


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable as JSON: {exc}") from None


def cmd_schemas(args: argparse.Namespace) -> int:
    from brygga.canonical import check_against_release, default_case_types

    settings = Settings.from_env()
    if args.action == "release":
        try:
            default_case_types()  # every file loads and is a valid case type
            findings = _kommun_type_findings(settings)
        except ConfigError as exc:
            print(f"brygga schemas release: {exc}", file=sys.stderr)
            return 1
        if findings and not args.accept_breaking:
            print("\n".join(findings))
            print("brygga schemas release: these are breaking changes against the last release; make them "
                  "compatible, or release a new major type file, or pass --accept-breaking", file=sys.stderr)
            return 1
        for folder in settings.case_types_dirs:
            (folder / RELEASED).mkdir(exist_ok=True)
            for current in sorted(folder.glob("*.v1.schema.json")):
                copy = folder / RELEASED / current.name.replace(".v1.schema.json", ".v1.json")
                copy.write_bytes(current.read_bytes())
                print(f"{current} -> {copy}")
        if not settings.case_types_dirs:
            print("no case types of the kommun's own (BRYGGA_CONFIG/case-types or BRYGGA_CASE_TYPES): nothing to do")
        return 0
    try:
        findings = check_against_release() + _kommun_type_findings(settings)
    except (ConfigError, ValueError) as exc:
        print(f"brygga schemas check: {exc}", file=sys.stderr)
        return 1
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} breaking change(s) against the last release (docs/schemas.md)", file=sys.stderr)
        return 1
    print("ok: no breaking change against the last release")
    return 0


def _add_schemas(sub: argparse._SubParsersAction) -> None:
    actions = add_group(sub, "schemas",
                        help="check the canonical schemas for breaking changes against the last release",
                        description="check: compares the composed canonical case schema (the core and the bundled "
                                    "case types) with the last Brygga release's copy in schemas/canonical/released/, "
                                    "and each of the kommun's own case types (BRYGGA_CONFIG/case-types) with its copy "
                                    "in case-types/released/, and lists every breaking change: a removed field, a "
                                    "tightened type or limit, a new required field (docs/schemas.md). release: "
                                    "copies the kommun's case types into case-types/released/, the baseline of the "
                                    "next check; run it when a change ships, and commit the copies.",
                        examples=["brygga schemas check", "brygga schemas release",
                                  "brygga schemas release --accept-breaking"])
    add_command(actions, "check", func=cmd_schemas, help="list breaking changes; exit 1 when there are any",
                description="Lists every breaking change of the canonical schemas and the kommun's case types "
                            "against the last release. Exit 1 when there is one.",
                examples=["brygga schemas check"])
    release = add_command(actions, "release", func=cmd_schemas,
                          help="record the kommun's case types as released (refused while check finds a breaking "
                               "change)",
                          description="Copies the kommun's case types into case-types/released/, the baseline of "
                                      "the next check. Refused (exit 1) while check finds a breaking change, unless "
                                      "--accept-breaking.",
                          examples=["brygga schemas release", "brygga schemas release --accept-breaking"])
    release.add_argument("--accept-breaking", action="store_true",
                         help="release even so: every system that reads these cases must be ready for the change")


def _add_listing(sub: argparse._SubParsersAction, name: str, *, help: str, description: str, lists: str,
                 func: Callable[[argparse.Namespace], int]) -> None:
    """``brygga NAME list [--json]``."""
    shown = [f"brygga {name} list", f"brygga {name} list --json"]
    actions = add_group(sub, name, help=help, description=description, examples=shown)
    listing = add_command(actions, "list", func=func, help=lists, description=description, examples=shown)
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")


def _add_routes(sub: argparse._SubParsersAction) -> None:
    _add_listing(sub, "routes", help="list the routes: tenant, source, e-services, targets and schedule",
                 description="Reads the routes file (BRYGGA_ROUTES, or BRYGGA_CONFIG/routes.yaml, or the bundled "
                             "example) and lists each route: its tenant, its source, the e-services its inbound "
                             "mappings accept, its targets with the case types each takes, and its schedule. "
                             "Connections are shown by id, never resolved.",
                 lists="list every route", func=cmd_routes)


def cmd_adapters(args: argparse.Namespace) -> int:
    from brygga import adapter_catalog

    adapters = adapter_catalog.installed()
    if args.json:
        print(json.dumps([a.as_json() for a in adapters], ensure_ascii=False, indent=2, default=str))
    else:
        print(adapter_catalog.render(adapters), end="")
    return 1 if any(a.error for a in adapters) else 0


def _add_adapters(sub: argparse._SubParsersAction) -> None:
    _add_listing(sub, "adapters", help="list the installed adapters and what each needs",
                 description="Lists every adapter registered in the brygga.adapters entry-point group: what it is "
                             "(source, case target, archive target, ...), its config fields from its config_spec "
                             "and the connection fields it reads. Exit 1 when one cannot be imported. "
                             "docs/adapters.md describes the contract.",
                 lists="list the installed adapters", func=cmd_adapters)


MAIN_EPILOG = f"""{EXIT_CODES}

State (the ledger, landed files) is in BRYGGA_HOME: var/ in a source checkout, or --home DIR for one command. The \
scheduler, the workers and this command must use the same one. `brygga demo` keeps its own in var/demo.

{examples_epilog("brygga list --state quarantined --since 2d", 'brygga find 4711', "brygga trace ID",
                 "brygga quarantine list", "brygga --home var/demo find 2001", "brygga lint")}

docs/cli.md describes every command."""


def brygga_version() -> str:
    try:
        return version("brygga")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="brygga", description="Brygga: e-service submissions into case systems, the e-archive and "
                                               "back to the resident. Every command has --help.",
                    epilog=MAIN_EPILOG)
    parser.add_argument("--version", action="version", version=f"brygga {brygga_version()}")
    parser.add_argument("--home", metavar="DIR",
                        help="Brygga's home for this command (instead of BRYGGA_HOME), e.g. var/demo after `brygga "
                             "demo`; its ledger must exist")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_translate(sub)
    add_validate(sub)
    add_validation_api(sub)
    _add_lint(sub)
    _add_test(sub)
    add_admin(sub)
    _add_purge(sub)
    _add_routes(sub)
    _add_schemas(sub)
    add_docs(sub)
    _add_adapters(sub)
    add_status(sub)
    add_bus(sub)
    for plugin in entry_points(group=COMMAND_GROUP):
        plugin.load()(sub)
    return parser


@contextmanager
def _home(home: str | None) -> Iterator[None]:
    """``--home DIR``: BRYGGA_HOME for this command only (main() may run more than once in a process)."""
    if home is None:
        yield
        return
    saved = os.environ.get("BRYGGA_HOME")
    os.environ["BRYGGA_HOME"] = str(Path(home).expanduser().resolve())
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("BRYGGA_HOME", None)
        else:
            os.environ["BRYGGA_HOME"] = saved


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors exit 2 here, as argparse does
    name = " ".join(filter(None, (args.command, getattr(args, "action", None))))
    with _home(args.home):
        try:
            code = int(args.func(args))
            sys.stdout.flush()  # inside the try: a reader that went away is found here, not at exit
            return code
        except BrokenPipeError:
            # `brygga find … | head -1`: the reader has what it wanted. Exit 0 (docs/cli.md); stdout goes to
            # devnull so the interpreter's last flush does not fail again (the recipe of Python's signal docs).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except LedgerMissing as exc:
            print(f"brygga {name}: {exc}", file=sys.stderr)
            return MISSING
        except ConfigError as exc:
            print(f"brygga {name}: {exc}", file=sys.stderr)
            return MISSING
        except KeyboardInterrupt:
            print(f"brygga {name}: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    raise SystemExit(main())
