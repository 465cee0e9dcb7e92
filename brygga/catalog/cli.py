"""`brygga validate [--schema NAME[@VERSION]] [--lang sv|en] [--format text|json] [--route ID] FILE…`: validate
canonical JSON, or an e-service's XML through the mapping that accepts it, and print each problem with its JSON path,
its rule and a hint (the first 100 of a file, and how many more there are). Exit 0 when every file is valid, 1
otherwise (a file that cannot be read counts as invalid), 2 for an unknown schema or route, 3 when the configuration
(the routes file, a mapping, the case types) cannot be read."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from brygga.catalog.messages import LANGS, Lang
from brygga.cli_exits import NOTHING, OK, USAGE
from brygga.cli_parsers import add_command

if TYPE_CHECKING:
    from brygga.catalog.validate import FileReport

__all__ = ["add_validate", "cmd_validate", "default_lang", "render_text"]

_WORDS = {
    "en": {"valid": "valid", "invalid": "invalid", "problems": "problem(s)", "error": "error", "root": "(document)",
           "hint": "hint", "files": "file(s)", "against": "against", "n_valid": "valid", "n_invalid": "invalid",
           "more": "… and {} more"},
    "sv": {"valid": "giltig", "invalid": "ogiltig", "problems": "fel", "error": "fel", "root": "(dokumentet)",
           "hint": "tips", "files": "fil(er)", "against": "mot", "n_valid": "giltiga", "n_invalid": "ogiltiga",
           "more": "… och {} till"},
}


def _count(number: int, lang: Lang) -> str:
    """399,900 in English, 399 900 in Swedish."""
    return f"{number:,}".replace(",", " " if lang == "sv" else ",")


def default_lang() -> Lang:
    """Swedish when the locale is Swedish (LC_ALL, LC_MESSAGES or LANG, the first one set), else English."""
    locale = next((value for key in ("LC_ALL", "LC_MESSAGES", "LANG") if (value := os.environ.get(key))), "")
    return "sv" if locale.lower().startswith("sv") else "en"


def render_text(reports: list[FileReport], lang: Lang) -> str:
    words = _WORDS[lang]
    lines = []
    for report in reports:
        against = f" {words['against']} {report.schema}" if report.schema else ""
        if report.error is not None:
            # The error names the file itself (the API shows it alone): not twice on the line.
            lines.append(f"{report.file}: {words['error']}: {report.error.removeprefix(f'{report.file}: ')}")
        elif report.valid:
            lines.append(f"{report.file}: {words['valid']}{against}")
        else:
            lines.append(f"{report.file}: {words['invalid']}{against}, {_count(report.total, lang)} "
                         f"{words['problems']}")
        for problem in report.problems:
            lines.append(f"  {problem.path or words['root']}  {problem.rule}")
            lines.append(f"    {problem.message}")
            if problem.hint:
                lines.append(f"    {words['hint']}: {problem.hint}")
        if report.truncated:
            lines.append("  " + words["more"].format(_count(report.total - len(report.problems), lang)))
    if len(reports) > 1:
        valid = sum(report.valid for report in reports)
        lines.append(f"{len(reports)} {words['files']}: {valid} {words['n_valid']}, {len(reports) - valid} "
                     f"{words['n_invalid']}")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    from brygga.catalog.entries import UnknownSchema, resolve_schema
    from brygga.catalog.inputs import UnknownRoute, check_route
    from brygga.catalog.validate import validate_file

    lang: Lang = args.lang or default_lang()
    # A broken routes file, mapping or case types folder is raised (ConfigError): brygga's main exits 3 for it.
    try:
        if args.schema is not None:
            resolve_schema(args.schema)
        if args.route is not None:
            check_route(args.route)
    except (UnknownSchema, UnknownRoute) as exc:
        print(f"brygga validate: {exc}", file=sys.stderr)
        return USAGE
    reports = [validate_file(path, schema=args.schema, lang=lang, route=args.route) for path in args.files]
    valid = all(report.valid for report in reports)
    if args.format == "json":
        print(json.dumps({"valid": valid, "files": [report.as_json() for report in reports]}, ensure_ascii=False,
                         indent=2))
    else:
        print(render_text(reports, lang))
    return OK if valid else NOTHING


def add_validate(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "validate", func=cmd_validate,
        help="validate canonical JSON or an e-service's XML against the published schemas, with hints",
        description="Validates each FILE against a canonical schema and prints every problem with its JSON path, "
                    "the rule it breaks and a hint (what the field is, an example value), in Swedish or English. "
                    "FILE is canonical JSON (a case or a status event), or an e-service's XML, translated first by "
                    "the inbound mapping that accepts it (among --route's mappings, or every route's), whose "
                    "problems have the rule 'mapping'. Without --schema: a case by its caseType, a status event by "
                    "its eventId and kind (XML is a case). Messages never quote the file's values. Exit 0 when every "
                    "file is valid, 1 otherwise (a file that cannot be read, parsed or translated counts as "
                    "invalid, with its error), 2 for an unknown schema or route (the message lists the known ones), "
                    "3 when the configuration (the routes file, a mapping, the case types) cannot be read. A file's "
                    "first 100 problems are listed, with how many more there are.",
        examples=["brygga validate schemas/canonical/examples/bygglov-person.json",
                  "brygga validate --schema bygglov --lang sv case.json",
                  "brygga validate --schema case@1.0.0 old-case.json",
                  "brygga validate --format json samples/open-eplatform/bygglov-person.xml"])
    p.add_argument("--schema", metavar="NAME[@VERSION]",
                   help="the schema: case, a case type (bygglov, felanmalan, ...), status-event, optionally with a "
                        "version or its prefix (case@1.0.0, bygglov@1); default: told from each document")
    p.add_argument("--lang", choices=LANGS, help="language of messages and hints (default: sv when LC_ALL, "
                   "LC_MESSAGES or LANG is Swedish, else en)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default), or a JSON report: {valid, files: [{file, schema, valid, problems: [{path, "
                        "rule, message, hint}], total, truncated, error}]}")
    p.add_argument("--route", metavar="ID", help="for XML: choose the mapping among this route's inbound mappings, "
                   "with its tenant (default: among every route's)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="canonical JSON or e-service XML")
