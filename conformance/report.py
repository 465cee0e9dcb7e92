"""The reports of a run: JUnit XML (for a CI server) and a self-contained HTML page (for a person)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from brygga_conformance.model import CaseResult
from brygga_conformance.runner import RunReport

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _message(findings: list[str]) -> str:
    """The first finding as the one-line message; all of them are in the element's text."""
    if not findings:
        return ""
    more = len(findings) - 1
    return findings[0] + (f" (and {more} more finding{'s' if more > 1 else ''})" if more else "")


def _testcase(profile: str, result: CaseResult) -> TestCase:
    case = TestCase(result.sample or result.check.id, classname=f"{profile}.{result.check.id}",
                    time=round(result.seconds, 3))
    if result.outcome == "failed":
        entry = Failure(_message(result.findings), type_="finding")
    elif result.outcome == "error":
        entry = Error(_message(result.findings), type_="error")
    elif result.outcome == "skipped":
        entry = Skipped(_message(result.findings))
    else:
        entry = None
    if entry is not None:
        entry.text = "\n".join(result.findings)
        case.result = [entry]
    if result.notes:
        case.system_out = "\n".join(result.notes)
    return case


def write_junit(report: RunReport, path: Path) -> None:
    """One testsuite (the profile), one testcase per result: classname ``<profile>.<check id>``, name the sample
    (or the check, for one not per sample); failure, error or skipped with the findings; notes as system-out."""
    suite = TestSuite(report.profile)
    suite.timestamp = report.started.isoformat(timespec="seconds")
    suite.add_property("endpoint", report.endpoint)
    suite.add_property("run_id", report.run_id)
    suite.add_property("brygga_version", report.brygga_version)
    for result in report.results:
        suite.add_testcase(_testcase(report.profile, result))
    suite.update_statistics()
    suite.time = round(report.seconds, 3)
    xml = JUnitXml(f"brygga conformance {report.profile}")
    xml.add_testsuite(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    xml.write(str(path), pretty=True)


def render_html(report: RunReport) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html").render(report=report, counts=report.counts(),
                                                   by_check=report.by_check())


def write_html(report: RunReport, path: Path) -> None:
    """One self-contained page (inline CSS, no scripts): the run, then one table per check with every finding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
