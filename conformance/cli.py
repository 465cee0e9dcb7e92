"""`brygga conformance --profile NAME --endpoint URL`: the vendors' conformance kit (docs/vendors.md).

Registered through the ``brygga.commands`` entry point, so it comes with a plain ``pip install brygga`` (no
Airflow). Exit codes: 0 every check passed (or was skipped), 1 a check failed or errored, 2 usage (an unknown
profile, option or sample, an option value the profile cannot use, a --report-dir that cannot be written), 3 nothing
listens at the endpoint (the name does not resolve, the connection is refused or connecting times out: nothing was
checked), 130 interrupted (Ctrl-C; the reports hold what ran until then). An endpoint that accepts the connection
but never answers is not exit 3: each check waits out the read timeout and fails or errors, exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from brygga.admin.commands.output import cells, emit, table
from brygga.cli_exits import MISSING, NOTHING, OK, USAGE
from brygga.cli_parsers import add_command
from brygga_conformance.drawing import MAX_MB
from brygga_conformance.endpoint import CONNECTION_OPTIONS, Endpoint
from brygga_conformance.model import CaseResult
from brygga_conformance.profiles import PROFILES, UnknownProfile, profile_class
from brygga_conformance.report import write_html, write_junit
from brygga_conformance.runner import EndpointUnreachable, OptionError, RunReport, check_options, run_profile
from brygga_conformance.samples import UnknownSample

PROG = "brygga conformance"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers, "conformance", func=main,
        help="check a vendor's endpoint against the contract Brygga speaks with it (JUnit XML and HTML report)",
        description="Sends Brygga's sample set through the profile's outbound mapping to the endpoint, with Brygga's "
                    "own adapters, and checks each answer: a case reference comes back, the documents arrive intact, "
                    "invalid input gets a fault, a repeat creates nothing new, the replies are shaped as the contract "
                    "says. Writes junit.xml and report.html to --report-dir. Credentials come from the environment: "
                    "BRYGGA_CONFORMANCE_LOGIN and BRYGGA_CONFORMANCE_PASSWORD. Exit 0 when every check passed, 1 when "
                    "one failed or errored, 2 on a usage error, 3 when nothing listens at the endpoint (the host name "
                    "does not resolve, the connection is refused or connecting times out), 130 when interrupted "
                    "(the reports are still written). An endpoint that accepts the connection but does not answer "
                    "is not exit 3: each check waits --option read_timeout (default 30 s) for its answer, then fails "
                    "or errors (exit 1).",
        examples=["brygga conformance --list-profiles",
                  "brygga conformance --profile byggr-soap --endpoint https://byggr-test.example.se/ArendeExportWS",
                  "brygga conformance --profile byggr-soap --endpoint http://localhost:8081/ArendeExportWS "
                  "--option contract=v4 --sample bygglov-person",
                  "brygga conformance --profile case-rest --endpoint https://orders-test.example.se/api "
                  "--large-document 25",
                  "BRYGGA_CONFORMANCE_PASSWORD=... brygga conformance --profile case-rest --endpoint "
                  "https://orders-test.example.se/api --option auth=oauth2 --option token_url=/oauth/token"])
    p.add_argument("--profile", metavar="NAME", help=f"the contract to check: {', '.join(PROFILES)}")
    p.add_argument("--endpoint", metavar="URL", help="the endpoint's URL (http or https), without credentials")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a profile option (see --list-profiles) or a connection option: "
                        f"{', '.join(CONNECTION_OPTIONS)}")
    p.add_argument("--sample", action="append", default=[], metavar="NAME",
                   help="run only this sample (repeatable); default: every sample the profile takes")
    p.add_argument("--large-document", metavar="MB", type=int, default=0,
                   help="add a generated drawing of MB megabytes (a PDF) to each sample's documents, to check that "
                        f"real-sized documents arrive intact; 25 is a typical drawing (default 0: none; at most "
                        f"{MAX_MB})")
    p.add_argument("--report-dir", metavar="DIR", type=Path, default=Path("conformance-report"),
                   help="where junit.xml and report.html go (default ./conformance-report)")
    p.add_argument("--list-profiles", action="store_true", help="list the profiles, their options and checks")


INTERRUPTED = 130  # as every brygga command exits on Ctrl-C (brygga.cli_exits)
REPORTS = ("junit.xml", "report.html")  # in --report-dir


def _usage(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return USAGE


def _options(pairs: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option expects KEY=VALUE, got {key.strip() or pair!r} without a value")
        options[key.strip()] = value
    return options


def list_profiles() -> int:
    for name in PROFILES:
        cls = profile_class(name)
        print(f"{name}: {cls.title}")
        print(f"  {cls.contract}")
        for option, help_text in cls.options.items():
            print(f"  --option {option}=...  {help_text}")
        print(f"  checks: {', '.join(check.id for check in cls.checks)}")
    print("Every profile also takes the connection options: " + ", ".join(CONNECTION_OPTIONS))
    return OK


def _progress(result: CaseResult) -> None:
    where = f" {result.sample}" if result.sample else ""
    print(f"  {result.outcome:<7} {result.check.id}{where} ({result.seconds:.2f} s)", file=sys.stderr, flush=True)


def report_dir_problem(directory: Path) -> str | None:
    """Why the reports cannot be written to ``directory``, checked before the run (nothing is created yet: a usage
    error or an endpoint that does not answer leaves no folder behind); None when they can."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"--report-dir {directory}: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"--report-dir {directory}: {existing} is not writable"
    if existing == directory:
        for name in REPORTS:
            if (directory / name).is_dir():
                return f"--report-dir {directory}: {directory / name} is a folder, where the report {name} goes"
    return None


def _summary(report: RunReport) -> None:
    counts = report.counts()
    verdict = "INTERRUPTED" if report.interrupted else "passed" if report.ok else "FAILED"
    print(f"{report.profile} at {report.endpoint}: {verdict} ({counts['passed']} passed, "
          f"{counts['failed']} failed, {counts['error']} errored, {counts['skipped']} skipped)")
    grid = table("check", "passed", "failed", "error", "skipped")
    for check, results in report.by_check():
        counts = [sum(r.outcome == outcome for r in results) for outcome in ("passed", "failed", "error", "skipped")]
        grid.add_row(*cells(check.id, *counts))
    emit(grid)
    for result in report.results:
        if result.outcome in ("failed", "error"):
            for finding in result.findings:
                print(f"{result.outcome} {result.check.id}{' ' + result.sample if result.sample else ''}: {finding}")


def main(args: argparse.Namespace) -> int:
    if args.list_profiles:
        return list_profiles()
    if not args.profile or not args.endpoint:
        return _usage("give --profile NAME and --endpoint URL (or --list-profiles); profiles: "
                      + ", ".join(PROFILES))
    try:
        endpoint = Endpoint(args.endpoint, _options(args.option))
    except ValueError as exc:  # EndpointError too
        return _usage(str(exc))
    try:
        check_options(args.profile, endpoint)
        problem = report_dir_problem(args.report_dir)
        if problem is not None:
            return _usage(problem)
        print(f"{PROG}: {args.profile} at {endpoint.url}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="brygga-conformance-") as workdir:
            report = run_profile(args.profile, endpoint, workdir=Path(workdir), samples=args.sample or None,
                                 progress=_progress, large_document_mb=args.large_document)
    except (UnknownProfile, OptionError, UnknownSample) as exc:
        return _usage(str(exc))
    except EndpointUnreachable as exc:
        print(f"{PROG}: nothing listens at the endpoint, nothing was checked: {exc}", file=sys.stderr)
        return MISSING
    _summary(report)  # first: a report that cannot be written loses nothing of the run
    junit, html = (args.report_dir / name for name in REPORTS)
    try:
        write_junit(report, junit)
        write_html(report, html)
    except OSError as exc:
        print(f"{PROG}: the reports could not be written to {args.report_dir}: {exc.strerror or exc}", file=sys.stderr)
        return USAGE
    print(f"JUnit XML: {junit}")
    print(f"HTML report: {html}")
    if report.interrupted:
        print(f"{PROG}: interrupted (Ctrl-C): the reports hold the checks made until then", file=sys.stderr)
        return INTERRUPTED
    return OK if report.ok else NOTHING
