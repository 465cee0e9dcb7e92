"""The schema reference site: one static HTML page per published schema, an index, the schema files to download,
and the validation API's OpenAPI document. Offline: no CDN, no script; readable without the style sheet.

Layout of the folder it writes::

    index.html
    <name>.html                      a current schema (case, each case type, status-event)
    <name>-<version>.html            the released case schema, the baseline of the compatibility check
    schemas/<name>-<version>.schema.json   what a vendor fetches (`SchemaEntry.own_schema()`)
    validation-api.openapi.json      when the validation API is installed
    style.css

The folder is replaced on each run; a folder holding anything else is refused rather than emptied.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brygga.catalog import SchemaEntry, schema_catalog
from brygga.errors import BryggaError
from brygga.schema_docs.examples import bilingual, invalid_views, valid_views
from brygga.schema_docs.fields import ANY, schema_table

__all__ = ["MARKER", "OPENAPI_FILE", "DocsFolderInUse", "Site", "build_docs", "page_href", "schema_href"]

HERE = Path(__file__).resolve().parent
MARKER = ".brygga-docs"  # marks a folder this module wrote, so that a rerun may replace it
OPENAPI_FILE = "validation-api.openapi.json"
KINDS = {"case": "Case", "case-type": "Case type", "status-event": "Status event"}


class DocsFolderInUse(BryggaError):
    """The output folder holds files `brygga docs` did not write."""


@dataclass(frozen=True)
class Site:
    index: Path
    pages: list[Path]
    schemas: list[Path]
    openapi: Path | None


def page_href(entry: SchemaEntry) -> str:
    return f"{entry.name}.html" if entry.current else f"{entry.name}-{entry.version}.html"


def schema_href(entry: SchemaEntry) -> str:
    return f"schemas/{entry.name}-{entry.version}.schema.json"


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["bilingual"] = bilingual
    env.filters["breakable"] = _breakable
    env.globals.update(kinds=KINDS, page_href=page_href, schema_href=schema_href, any=ANY)
    return env


def _breakable(path: str) -> Any:
    """A JSON pointer that may wrap after each ``/`` (escaped: it may hold any property name)."""
    from markupsafe import Markup, escape

    return Markup("/<wbr>").join(escape(part) for part in path.split("/"))


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise DocsFolderInUse(f"{out} is a file, not a folder; give --out a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise DocsFolderInUse(f"{out} holds files `brygga docs` did not write; give --out an empty or new folder")
        shutil.rmtree(out)
    (out / "schemas").mkdir(parents=True)
    (out / MARKER).write_text("Written by `brygga docs`; replaced on each run.\n", encoding="utf-8")


def _openapi() -> dict[str, Any] | None:
    """The validation API's document, when the API is part of this installation."""
    if importlib.util.find_spec("brygga.catalog.api") is None:
        return None
    from brygga.catalog.api import create_app

    return create_app().openapi()


def _json_text(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _page(env: Any, entry: SchemaEntry, catalog: Sequence[SchemaEntry], openapi: bool) -> str:
    pages_by_id = {other.id: other for other in catalog if other is not entry and other.current}
    prefix = f"/details/{entry.name}" if entry.kind == "case-type" else ""
    table = schema_table(entry.own_schema(), prefix=prefix, documented_elsewhere=pages_by_id)
    current = next((other for other in catalog if other.name == entry.name and other.current), None)
    return env.get_template("schema.html").render(
        entry=entry, catalog=catalog, table=table, pages_by_id=pages_by_id, valid=valid_views(entry),
        invalid=invalid_views(entry),
        current=current, case=next((other for other in catalog if other.kind == "case" and other.current), None),
        details_required=bool(entry.own_schema().get("required")) if entry.kind == "case-type" else False,
        openapi=openapi)


def build_docs(out: Path, entries: Sequence[SchemaEntry] | None = None) -> Site:
    """Write the site into ``out`` (created, or replaced when an earlier run wrote it). ``entries``: the schemas to
    document; None means the catalog of this environment (`schema_catalog()`). Everything is rendered before the
    folder is touched, so a failure leaves an earlier site as it was."""
    catalog = list(schema_catalog() if entries is None else entries)
    env = _environment()
    openapi = _openapi()
    files: dict[str, str] = {schema_href(entry): _json_text(entry.own_schema()) for entry in catalog}
    files |= {page_href(entry): _page(env, entry, catalog, openapi is not None) for entry in catalog}
    files["index.html"] = env.get_template("index.html").render(catalog=catalog, openapi=openapi is not None)
    if openapi is not None:
        files[OPENAPI_FILE] = _json_text(openapi)
    _prepare(out)
    shutil.copyfile(HERE / "static" / "style.css", out / "style.css")
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return Site(out / "index.html", [out / page_href(entry) for entry in catalog],
                [out / schema_href(entry) for entry in catalog], out / OPENAPI_FILE if openapi is not None else None)
