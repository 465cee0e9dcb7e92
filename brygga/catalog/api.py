"""The validation API: a vendor lists Brygga's published schemas, fetches one with its examples, and validates a
payload against it over HTTP, exactly as `brygga validate` does.

- ``GET /schemas``: every schema in the catalog (``brygga.catalog.schema_catalog``) and where to fetch it;
- ``GET /schemas/{name}[?version=V]``: the schema itself (``application/schema+json``);
- ``GET /schemas/{name}/examples``: its valid examples, and the invalid ones with the errors each must produce;
- ``POST /validate[?schema=NAME[@VERSION]][&lang=sv|en]``: canonical JSON, or an e-service's XML through the mapping
  that accepts it; the answer lists every problem with its JSON path, rule, message and hint.

No authentication, on purpose: it serves public schemas and answers about what it is sent, and keeps nothing: the
body is read into memory under a cap (``max_body_bytes``, counted as it arrives, Content-Length too), validated and
dropped. It is never logged or stored, and no answer quotes it: errors are ``application/problem+json`` (RFC 9457)
naming the parameter, limit or rule. Mounted in Airflow's API server by Brygga's plugin (``/brygga/validation``),
or served alone by `brygga validation-api`. ``docs/validation-api.openapi.json`` is its published OpenAPI document
(``write_openapi``).
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from brygga.catalog.entries import SchemaEntry, UnknownSchema, resolve_schema, schema_catalog
from brygga.catalog.examples import invalid_examples, valid_examples
from brygga.errors import ConfigError
from brygga.http_body import JSON_MEDIA_TYPE, BodyProblem, check_media_type, read_capped

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_JSON_BYTES", "OPENAPI_PATH", "create_app", "write_openapi"]

log = logging.getLogger("brygga.catalog.api")

MiB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 10 * MiB  # as the webhook intake's default: an e-service XML carries its attachments
# A canonical case or status event is a few KB (attachments are references). JSON gets a much lower cap: every
# problem of a document is counted, and a large array of wrong items costs about 20 µs and 2 KB per problem.
DEFAULT_MAX_JSON_BYTES = 256 * 1024
OPENAPI_PATH = Path("docs") / "validation-api.openapi.json"
API_VERSION = "1.0.0"
PROBLEM_MEDIA_TYPE = "application/problem+json"
SCHEMA_MEDIA_TYPE = "application/schema+json"
XML_MEDIA_TYPES = ("application/xml", "text/xml")

# As brygga.catalog.entries reads NAME[@VERSION]; bounded here so a query is refused (422) before it is looked up.
_NAME = r"[a-z][a-z0-9_-]{0,63}"
_VERSION = r"[0-9]{1,9}(?:\.[0-9]{1,9}){0,2}"
VERSION_PATTERN = f"^{_VERSION}$"
SPEC_PATTERN = f"^{_NAME}(?:@{_VERSION})?$"
_NAME_RE = re.compile(_NAME, re.ASCII)

Lang = Literal["en", "sv"]


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field("about:blank", description="Always about:blank: the status says what kind of problem.")
    title: str = Field(description="The status's phrase.")
    status: int = Field(description="The HTTP status.")
    detail: str = Field(description="What was wrong: a parameter, a limit or a rule; never the body's content.")


class SchemaSummary(BaseModel):
    name: str = Field(description='What `schema=` and `/schemas/{name}` take: "case", a case type, "status-event".')
    kind: Literal["case", "case-type", "status-event"]
    version: str = Field(description="The semantic version in the schema's $id.", examples=["1.1.0"])
    id: str = Field(description="The schema's $id.")
    title: str = Field(description="Svenska / English.")
    description: str = Field(description="Svenska / English.")
    current: bool = Field(description="False for the schema of the last release, kept for comparison.")
    spec: str = Field(description="NAME@VERSION: exactly this schema, as `schema=` takes it.",
                      examples=["bygglov@1.1.0"])
    schema_url: str = Field(description="Where to fetch the schema (a path on this server).")
    examples_url: str | None = Field(description="Where its examples are (a path on this server); null for a schema "
                                                 "of a past release.")


class SchemaList(BaseModel):
    schemas: list[SchemaSummary]


class ExpectedError(BaseModel):
    path: str = Field(description="JSON pointer into the document.")
    rule: str = Field(description="The rule, as a validation problem names it.")


class ValidExampleOut(BaseModel):
    name: str
    part: Literal["document", "details"] = Field(description="A whole document, or the details.<type> object of "
                                                             "a case of the type.")
    document: Any


class InvalidExampleOut(BaseModel):
    name: str
    description: str = Field(description="What is wrong with it: Svenska. / English.")
    errors: list[ExpectedError] = Field(description="Exactly the problems validating it produces.")
    document: Any


class Examples(BaseModel):
    schema_: str = Field(alias="schema", description="NAME@VERSION of the schema they are examples of.")
    valid: list[ValidExampleOut]
    invalid: list[InvalidExampleOut]


class ValidationProblem(BaseModel):
    path: str = Field(description='JSON pointer into the document ("" for the root).')
    rule: str = Field(description='The rule broken: "required", "enum", "format:personnummer", "caseType", '
                                  '"mapping", ...')
    message: str = Field(description="What is wrong, in the language asked for; never quotes the document.")
    hint: str | None = Field(description="What the field is and an example value from the schema.")


class ValidationResult(BaseModel):
    valid: bool
    schema_: str = Field(alias="schema", description="NAME@VERSION of the schema it was validated against.")
    # brygga.catalog.validate.MAX_PROBLEMS; not imported here: that module loads the mappings' machinery.
    problems: list[ValidationProblem] = Field(description="The first 100 problems at most; `total` counts them all.")
    total: int = Field(description="How many problems there are in all.")
    truncated: bool = Field(description="Whether there are more problems than `problems` lists.")


class _Refusal(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


_TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large",
           415: "Unsupported Media Type", 422: "Unprocessable Content", 500: "Internal Server Error"}


def _problem_response(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ProblemDetails(title=_TITLES.get(status) or HTTPStatus(status).phrase, status=status, detail=detail)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}


def _problem_doc(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}}


_BAD_QUERY = _problem_doc("A parameter is not valid: the detail names it and the rule.")
_SERVER_FAULT = _problem_doc("The server's schema configuration cannot be read; its log says why.")
_NAME_DOC = "A schema's name: case, a case type (bygglov, ...) or status-event; GET /schemas lists them."


def _with_problems(app: FastAPI) -> None:
    """The OpenAPI document with ProblemDetails as a component, and FastAPI's own 422 (which this app never sends:
    its handler answers with a problem) described as the problem it is."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            schemas["ProblemDetails"] = ProblemDetails.model_json_schema()
            for operations in document["paths"].values():
                for operation in operations.values():
                    answer = operation.get("responses", {}).get("422")
                    if answer and PROBLEM_MEDIA_TYPE not in answer.get("content", {}):
                        operation["responses"]["422"] = _BAD_QUERY
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document


def _known_names() -> str:
    return ", ".join(dict.fromkeys(entry.name for entry in schema_catalog()))


def _entry(name: str, version: str | None, status: int) -> SchemaEntry:
    """The entry, or a refusal listing the known names. A name is repeated back only when it has a schema name's
    form: what else a URL holds is not echoed."""
    if not _NAME_RE.fullmatch(name):
        raise _Refusal(status, "that is not a schema name (lower-case letters, digits, '-' and '_'; ask for a "
                               f"version with ?version=); known: {_known_names()}")
    try:
        return resolve_schema(f"{name}@{version}" if version else name)
    except UnknownSchema as exc:
        raise _Refusal(status, str(exc)) from None


def _spec_entry(spec: str) -> SchemaEntry:
    name, _, version = spec.partition("@")
    return _entry(name, version or None, 422)


def _schema_path(request: Request, entry: SchemaEntry) -> str:
    return f"{request.url_for('get_schema', name=entry.name).path}?version={entry.version}"


def _summary(request: Request, entry: SchemaEntry) -> SchemaSummary:
    examples = request.url_for("get_examples", name=entry.name).path if entry.current else None
    return SchemaSummary(name=entry.name, kind=entry.kind, version=entry.version, id=entry.id, title=entry.title,
                         description=entry.description, current=entry.current, spec=entry.spec,
                         schema_url=_schema_path(request, entry), examples_url=examples)


def _examples(entry: SchemaEntry) -> Examples:
    valid = [ValidExampleOut(name=e.name, part=e.part, document=e.document) for e in valid_examples(entry)]
    invalid = [InvalidExampleOut(name=e.name, description=e.description, document=e.document,
                                 errors=[ExpectedError(path=path, rule=rule) for path, rule in e.errors])
               for e in invalid_examples(entry)]
    return Examples(schema=entry.spec, valid=valid, invalid=invalid)


def _media_type(content_type: str | None) -> str:
    """The body's kind: JSON in UTF-8 (RFC 8259), or XML (its declaration names its encoding). 415 otherwise."""
    try:
        return check_media_type(content_type, XML_MEDIA_TYPES)
    except BodyProblem as exc:
        raise _Refusal(exc.status, exc.detail) from None


def _declared_length(request: Request, cap: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    declared = declared.strip()
    if not (declared.isascii() and declared.isdigit()):
        raise _Refusal(400, "the Content-Length header is not a number of bytes")
    if len(declared) > len(str(cap)) or int(declared) > cap:  # the length first: int() of a huge one is slow
        raise _Refusal(413, f"the body is over the limit of {cap:,} bytes (by its Content-Length)")


class SchemaJSONResponse(JSONResponse):
    media_type = SCHEMA_MEDIA_TYPE


_BODY_DOC = {
    "required": True,
    "description": "The document to validate: canonical JSON (a case or a status event), or the XML an e-service "
                   "platform exports (translated by the mapping that accepts it, then validated as the case).",
    "content": {
        JSON_MEDIA_TYPE: {"schema": {"description": "Any JSON: it is validated against the schema named by "
                                                    "`schema` (or the one its caseType or eventId shows)."}},
        **{media_type: {"schema": {"type": "string", "description": "An e-service platform's export of one "
                                                                    "submission."}}
           for media_type in XML_MEDIA_TYPES},
    },
}


def create_app(*, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               max_json_bytes: int = DEFAULT_MAX_JSON_BYTES) -> FastAPI:
    """The validation API. ``max_body_bytes``: the largest XML body ``POST /validate`` reads, ``max_json_bytes``
    the largest JSON body (413 over them)."""
    if max_body_bytes < 1 or max_json_bytes < 1:
        raise ValueError("max_body_bytes and max_json_bytes must be at least 1")
    # No Swagger UI or ReDoc: they load their scripts from a CDN. The OpenAPI document is at /openapi.json.
    app = FastAPI(
        title="Brygga validation API",
        version=API_VERSION,
        description="Brygga's canonical schemas for vendors: list them, fetch one with its examples, and validate "
                    "a payload (canonical JSON, or an e-service's XML) against one, with each problem's JSON path, "
                    "rule and a hint in Swedish or English. No authentication: nothing sent is logged or kept. "
                    f"JSON bodies over {max_json_bytes:,} bytes and XML bodies over {max_body_bytes:,} bytes are "
                    "refused.",
        docs_url=None, redoc_url=None,
    )

    @app.exception_handler(_Refusal)
    async def refused(_: Request, problem: _Refusal) -> JSONResponse:
        return _problem_response(problem.status, problem.detail, problem.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer repeats the input; this one names the parameter and the rule only.
        parts = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg', 'not valid')}")
        return _problem_response(422, "; ".join(parts) or "a parameter is not valid")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        openapi = f"{request.scope.get('root_path', '')}/openapi.json"
        details = {404: f"no such endpoint: {openapi} lists them", 405: "this endpoint does not take that method"}
        detail = details.get(exc.status_code) or HTTPStatus(exc.status_code).phrase
        return _problem_response(exc.status_code, detail, dict(exc.headers or {}))

    @app.exception_handler(ConfigError)
    async def misconfigured(_: Request, exc: ConfigError) -> JSONResponse:
        log.error("validation API: the schema configuration cannot be read: %s", exc)
        return _problem_response(500, "the server's schema configuration cannot be read; its log says why")

    @app.get("/schemas", summary="List the published schemas", operation_id="listSchemas", response_model=SchemaList,
             response_description="Every schema: the current ones, then those of the last release.",
             responses={500: _SERVER_FAULT})
    def list_schemas(request: Request) -> SchemaList:
        return SchemaList(schemas=[_summary(request, entry) for entry in schema_catalog()])

    @app.get(
        "/schemas/{name}", name="get_schema", operation_id="getSchema", summary="Fetch a schema",
        response_class=SchemaJSONResponse,
        description="The schema as a vendor validates against it, self-contained (JSON Schema 2020-12): the case "
                    "with every case type composed in, a case type's own file (it describes details.<name>), or "
                    "the status event's.",
        responses={200: {"description": "The schema.", "content": {SCHEMA_MEDIA_TYPE: {"schema": {"type": "object"}}}},
                   404: _problem_doc("No schema of that name, or not in that version; the detail lists the known "
                                     "ones."),
                   422: _BAD_QUERY, 500: _SERVER_FAULT},
    )
    def get_schema(name: Annotated[str, PathParam(description=_NAME_DOC)], version: Annotated[str | None, Query(
            pattern=VERSION_PATTERN, description="A whole version (1.1.0) or a prefix (1, 1.1): the newest matching "
                                                 "one. Without it: the current one.")] = None) -> Any:
        return SchemaJSONResponse(_entry(name, version, 404).own_schema())

    @app.get(
        "/schemas/{name}/examples", name="get_examples", operation_id="getExamples", summary="The examples of a schema",
        response_description="The examples, each document as it is.",
        description="Valid examples (whole documents; for a case type also examples of its details), and invalid "
                    "ones, each with exactly the errors validating it produces. Of the current schema.",
        response_model=Examples, response_model_by_alias=True,
        responses={404: _problem_doc("No schema of that name; the detail lists the known ones."),
                   500: _SERVER_FAULT},
    )
    def get_examples(name: Annotated[str, PathParam(description=_NAME_DOC)]) -> Examples:
        return _examples(_entry(name, None, 404))

    @app.post(
        "/validate", operation_id="validate", summary="Validate a payload", response_model=ValidationResult,
        response_model_by_alias=True,
        response_description="Validated: whether it is valid, and its problems (the first 100; `total` counts them "
                             "all, `truncated` says there are more).",
        description="200 whether the document is valid or not: `valid` says which, `problems` says why not. "
                    "Refused: 400 malformed JSON or XML, an XML no mapping accepts, or a document whose schema "
                    "cannot be told without `schema`; 413 a body over the limit; 415 another Content-Type; 422 a "
                    "bad query parameter or an unknown schema; 500 the server's configuration (its routes, mappings "
                    "or case types) cannot be read.",
        responses={400: _problem_doc("The body is not well-formed JSON or XML, no mapping accepts the XML, or its "
                                     "schema cannot be detected (name it with `schema`)."),
                   413: _problem_doc(f"The body is over the limit ({max_json_bytes:,} bytes for JSON, "
                                     f"{max_body_bytes:,} for XML)."),
                   415: _problem_doc(f"The Content-Type is not {JSON_MEDIA_TYPE} (UTF-8), "
                                     f"{' or '.join(XML_MEDIA_TYPES)}."),
                   422: _problem_doc("A query parameter is not valid, or `schema` names no published schema."),
                   500: _SERVER_FAULT},
        openapi_extra={"requestBody": _BODY_DOC},
    )
    async def validate(
        request: Request,
        schema: Annotated[str | None, Query(
            pattern=SPEC_PATTERN, description="NAME[@VERSION], e.g. bygglov, case@1.0.0, status-event. Without "
                                              "it: a case by its caseType, a status event by its eventId and "
                                              "kind.")] = None,
        lang: Annotated[Lang, Query(description="The language of messages and hints.")] = "en",
    ) -> JSONResponse:
        media_type = _media_type(request.headers.get("content-type"))
        cap, cap_name = ((max_json_bytes, "max_json_bytes") if media_type == JSON_MEDIA_TYPE
                         else (max_body_bytes, "max_body_bytes"))
        _declared_length(request, cap)
        entry = await run_in_threadpool(_spec_entry, schema) if schema else None
        try:
            body = await read_capped(request.stream(), cap, f"the validation API's {cap_name}")
        except BodyProblem as exc:
            raise _Refusal(exc.status, exc.detail) from None
        result = await run_in_threadpool(_validate, body, media_type, entry, lang)
        return JSONResponse(result.model_dump(by_alias=True))

    _with_problems(app)
    return app


def _validate(body: bytes, media_type: str, entry: SchemaEntry | None, lang: Lang) -> ValidationResult:
    from brygga.catalog.validate import validate_bytes

    try:
        report = validate_bytes(body, media_type=media_type, schema=entry.spec if entry else None, lang=lang,
                                name="the body")
    except UnknownSchema as exc:  # nothing named, and nothing in the document shows which schema it is
        raise _Refusal(400, f"{exc} (name the schema with ?schema=NAME)") from None
    if report.error is not None or report.schema is None:
        raise _Refusal(400, report.error or "the document's schema cannot be detected: name it with ?schema=NAME")
    problems = [ValidationProblem(path=p.path, rule=p.rule, message=p.message, hint=p.hint) for p in report.problems]
    return ValidationResult(valid=report.valid, schema=report.schema, problems=problems, total=report.total,
                            truncated=report.truncated)


def openapi_document(app: FastAPI | None = None) -> str:
    """The OpenAPI document as it is published: pretty JSON, keys in the app's order, a newline at the end."""
    return json.dumps((app or create_app()).openapi(), ensure_ascii=False, indent=2) + "\n"


def write_openapi(path: Path) -> Path:
    """Write the published OpenAPI document (``docs/validation-api.openapi.json`` in the repository)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(openapi_document(), encoding="utf-8")
    return path
