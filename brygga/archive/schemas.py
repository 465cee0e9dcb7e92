"""XML Schema validation of a built package against schema files the caller provides (no network, ever).

The reference XSDs are not shipped in the package or the repository; the interop tests pass
``../shared/reference/earkiv``. mets.xsd imports xlink from loc.gov by URL; a resolver maps that import, and any
other ``*.xsd`` location, to a file of the same name under the given folder.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from brygga.archive.common import CSIP_NS, METS_NS, SIP_NS, XLINK_NS, safe_parser

_METS_PARTS = {
    METS_NS: "mets.xsd",
    CSIP_NS: "DILCISExtensionMETS.xsd",
    SIP_NS: "DILCISExtensionSIPMETS.xsd",
}
_XLINK = "xlink.xsd"
_ERMS = "ERMS_v3.xsd"


class SchemaNotFound(FileNotFoundError):
    pass


def _find(xsd_dir: Path, name: str) -> Path:
    """The shallowest file of that name under xsd_dir (test corpora nest copies deeper down)."""
    matches = sorted(xsd_dir.rglob(name), key=lambda p: (len(p.parts), str(p)))
    if not matches:
        raise SchemaNotFound(f"{name} not found under {xsd_dir}")
    return matches[0].resolve()


class _LocalSchemas(etree.Resolver):
    def __init__(self, xsd_dir: Path) -> None:
        super().__init__()
        self.xsd_dir = xsd_dir

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        name = (system_url or "").rsplit("/", 1)[-1]
        if name.endswith(".xsd"):
            try:
                return self.resolve_filename(str(_find(self.xsd_dir, name)), context)
            except SchemaNotFound:
                return None
        return None


def _parser(xsd_dir: Path) -> etree.XMLParser:
    parser = safe_parser()
    parser.resolvers.add(_LocalSchemas(xsd_dir))
    return parser


@cache
def _mets_schema(xsd_dir: Path) -> etree.XMLSchema:
    # One driver schema importing METS, both DILCIS extensions and xlink, each from its local file. xlink comes
    # first so mets.xsd's own import of it (a loc.gov URL) is already satisfied.
    imports = [(XLINK_NS, _find(xsd_dir, _XLINK))] + [(ns, _find(xsd_dir, n)) for ns, n in _METS_PARTS.items()]
    driver = etree.Element("{http://www.w3.org/2001/XMLSchema}schema")
    for namespace, location in imports:
        etree.SubElement(driver, "{http://www.w3.org/2001/XMLSchema}import", namespace=namespace,
                         schemaLocation=location.as_uri())
    doc = etree.fromstring(etree.tostring(driver), _parser(xsd_dir), base_url=(xsd_dir / "driver.xsd").as_uri())
    return etree.XMLSchema(doc)


@cache
def _erms_schema(xsd_dir: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_find(xsd_dir, _ERMS)), _parser(xsd_dir)))


def _validate(document: Path, schema: etree.XMLSchema, label: str) -> list[str]:
    try:
        tree = etree.parse(str(document), safe_parser())
    except (OSError, etree.XMLSyntaxError) as exc:
        return [f"{label}: cannot be read as XML ({exc})"]
    if schema.validate(tree):
        return []
    return [f"{label}:{error.line}: {error.message}" for error in schema.error_log]


def validate_mets_schema(path: Path, xsd_dir: Path) -> list[str]:
    """Validate the root METS and every representation METS of the package at ``path``."""
    package = Path(path)
    schema = _mets_schema(Path(xsd_dir).resolve())
    documents = [package / "METS.xml", *sorted(package.glob("representations/*/METS.xml"))]
    problems: list[str] = []
    for document in documents:
        problems += _validate(document, schema, document.relative_to(package).as_posix())
    return problems


def validate_erms_schema(path: Path, xsd_dir: Path) -> list[str]:
    """Validate ``metadata/descriptive/erms.xml`` of the package at ``path`` against ERMS_v3.xsd."""
    document = Path(path) / "metadata" / "descriptive" / "erms.xml"
    return _validate(document, _erms_schema(Path(xsd_dir).resolve()), "metadata/descriptive/erms.xml")
