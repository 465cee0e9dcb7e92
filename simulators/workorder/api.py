"""The work-order API as a FastAPI app: routes, OAuth2 client-credentials tokens, problem+json errors.

Mounted at the service root (``root``, the ASGI ``root_path``): routes here are relative to it, and the OpenAPI
document (``{root}/openapi.json``) names it as its server. Every route but the token endpoint and the document
needs a bearer token (checked by ``ServiceRoute`` before the body is read, as a gateway would); a JSON route then
needs a JSON body (415), and a body outside the models is a 422 naming field and rule, never the value.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures, which use names local to build_app.
import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Header, Path, Query, Request, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.models import OAuthFlowClientCredentials
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, APIRouter
from fastapi.security import OAuth2
from pydantic import AwareDatetime
from starlette.exceptions import HTTPException as StarletteHTTPException
from werkzeug.http import parse_options_header

from brygga_simulators.workorder.flaws import LenientWorkOrderCreate, TextColumn, shown_order
from brygga_simulators.workorder.models import (
    Attachment,
    ChangeList,
    Note,
    NoteCreate,
    OAuthError,
    Problem,
    TokenResponse,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderList,
)
from brygga_simulators.workorder.store import StoreError, WorkOrderStore, fingerprint

PROBLEM_JSON = "application/problem+json"
TOKEN_PATH = "/oauth2/token"
# RFC 9530: Repr-Digest: sha-256=:<base64>:, possibly among other algorithms.
REPR_DIGEST_SHA256 = re.compile(r"(?:^|,)\s*sha-256=:([A-Za-z0-9+/]+={0,2}):\s*(?:;[^,]*)?(?=,|$)")


class ProblemError(Exception):
    """An RFC 9457 answer. Its texts are the service's own words: never a value from the request."""

    def __init__(self, status: int, title: str, detail: str | None = None,
                 headers: dict[str, str] | None = None, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.headers, self.errors = status, title, detail, headers, errors


def problem_response(status: int, title: str, detail: str | None = None, headers: dict[str, str] | None = None,
                     errors: list[dict[str, str]] | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, errors=errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _problem_doc(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"description": description,
                           "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    if headers:
        doc["headers"] = headers
    return doc


PROBLEMS: dict[int, dict[str, Any]] = {
    400: _problem_doc("The request is malformed (e.g. its Repr-Digest does not match the content)."),
    401: _problem_doc("The bearer token is missing, unknown or expired.",
                      {"WWW-Authenticate": {"description": 'Bearer error="invalid_token"',
                                            "schema": {"type": "string"}}}),
    404: _problem_doc("No such order for this client."),
    409: _problem_doc("An order with this externalRef already exists for this client."),
    413: _problem_doc("The content is over the size limit."),
    415: _problem_doc("The Content-Type is missing or not one this operation takes."),
    422: _problem_doc("The body or a parameter breaks a rule (each named in `errors`), or the Idempotency-Key "
                      "was used for a different request."),
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: PROBLEMS[status] for status in statuses}


def _oauth_doc(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}}


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255,
           description="A retry with the same key and the same request gets the first answer again "
                       "(`Idempotent-Replayed: true`); the same key with another request is a 422."),
]
REPLAYED_HEADER = {"Idempotent-Replayed": {"description": "`true` when this is the first answer replayed.",
                                           "schema": {"type": "string", "enum": ["true"]}}}


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    mimetype, _ = parse_options_header(content_type)
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def _store(request: Request) -> WorkOrderStore:
    return request.app.state.store


def authenticate(request: Request) -> str:
    """The client whose live bearer token the request carries, else the 401 a resource server gives."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    client = _store(request).client_of(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if client is None:
        raise ProblemError(401, "Unauthorized", "a valid bearer token is required",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return client


class ServiceRoute(APIRoute):
    """Checks the token, then (for a JSON body) the Content-Type, before FastAPI reads and validates the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None

        async def guarded(request: Request) -> Response:
            request.state.client = authenticate(request)
            if takes_json and not _is_json(request.headers.get("content-type")):
                raise ProblemError(415, "Unsupported Media Type", "the body must be application/json")
            return await handler(request)

        return guarded


def build_app(store: WorkOrderStore, root: str, max_upload_bytes: int, flaws: frozenset[str] = frozenset()) -> FastAPI:
    """The API; ``flaws`` (brygga_simulators.workorder.flaws) makes it a non-conforming variant."""
    app = FastAPI(
        title="Arbetsorder / work-order API (Brygga simulator)",
        version="1.0.0",
        description="A municipal work-order system's API for fault reports (felanmälan): orders, attachments, "
                    "notes and a changes feed. OAuth2 client credentials; orders belong to the client that "
                    "created them. Errors are RFC 9457 problem details that never repeat a submitted value.",
        servers=[{"url": root}],
        root_path_in_servers=False,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    token_url = f"{root}{TOKEN_PATH}"
    oauth2 = OAuth2(flows=OAuthFlowsModel(clientCredentials=OAuthFlowClientCredentials(tokenUrl=token_url, scopes={})),
                    scheme_name="oauth2", auto_error=False,
                    description="Client credentials: POST the client id and secret (HTTP Basic or form) "
                                f"to {token_url}.")

    def current_client(request: Request, _: Annotated[str | None, Security(oauth2)] = None) -> str:
        return request.state.client  # set by ServiceRoute; the Security() puts the scheme in the document

    Client = Annotated[str, Depends(current_client)]
    CreateBody = LenientWorkOrderCreate if "accepts-invalid" in flaws else WorkOrderCreate
    router = APIRouter(route_class=ServiceRoute)

    # --- errors ----------------------------------------------------------------------------------

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, exc.headers, exc.errors)

    @app.exception_handler(StoreError)
    async def _store_error(_: Request, exc: StoreError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, _reason(exc.status_code), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.scope.get("route") is not None and request.scope["route"].path == TOKEN_PATH:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if "no-fault-500" in flaws and any(error.get("type") == "json_invalid" for error in exc.errors()):
            return Response("Internal Server Error", status_code=500, media_type="text/plain")
        errors = [{"field": ".".join(str(part) for part in error.get("loc", ())) or "body",
                   "rule": str(error.get("type", "invalid")), "message": str(error.get("msg", ""))}
                  for error in exc.errors()]
        return problem_response(422, "Unprocessable Content",
                                f"the request breaks {len(errors)} rule(s) of the API", errors=errors)

    # --- OAuth2 ----------------------------------------------------------------------------------

    @app.post(TOKEN_PATH, tags=["oauth2"], operation_id="issueToken", response_model=TokenResponse,
              summary="A bearer token for a client (client credentials grant, RFC 6749 4.4).",
              responses={400: _oauth_doc("Missing or unsupported grant_type."),
                         401: _oauth_doc("The client id or secret is wrong.")})
    def issue_token(
        request: Request,
        grant_type: Annotated[str | None, Form()] = None,
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
        scope: Annotated[str | None, Form()] = None,
    ) -> Any:
        basic = _basic_credentials(request.headers.get("authorization"))
        given_id, given_secret = basic if basic is not None else (client_id, client_secret)
        if not given_id or given_secret is None or not store.client_authenticates(given_id, given_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="workorder"'})
        if grant_type is None:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        token = store.issue_token(given_id)
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": store.token_ttl},
                            headers={"Cache-Control": "no-store"})

    # --- orders ----------------------------------------------------------------------------------

    @router.post("/orders", tags=["orders"], operation_id="createOrder", status_code=201, response_model=WorkOrder,
                 summary="Register a work order.",
                 responses={201: {"description": "Created.", "headers": {
                     "Location": {"schema": {"type": "string"}}, **REPLAYED_HEADER}},
                     **problems(401, 409, 415, 422)})
    def create_order(body: CreateBody, client: Client, idempotency_key: IdempotencyKey = None) -> Any:
        fields = body.model_dump(mode="json", exclude_none=True)

        def create() -> tuple[int, dict[str, Any], dict[str, str]]:
            order = store.create(client, fields)
            location = {"Location": f"{root}/orders/{order['orderNumber']}"}
            return 201, shown_order(order, flaws, created=True), location

        return _answer(*store.once(client, idempotency_key, fingerprint("POST", "/orders", fields), create))

    @router.get("/orders", tags=["orders"], operation_id="searchOrders", response_model=WorkOrderList,
                summary="The client's orders, optionally only those with an externalRef.",
                responses=problems(401, 422))
    def search_orders(client: Client, external_ref: Annotated[str | None, Query(alias="externalRef")] = None) -> Any:
        finds_nothing = "search-finds-nothing" in flaws and external_ref is not None
        found = [] if finds_nothing else store.search(client, external_ref)
        return JSONResponse({"items": [shown_order(order, flaws) for order in found]})

    @router.get("/orders/{orderNumber}", tags=["orders"], operation_id="getOrder", response_model=WorkOrder,
                summary="One order with its status, attachments and notes.", responses=problems(401, 404, 422))
    def get_order(client: Client, order_number: Annotated[str, _order_number()]) -> Any:
        return JSONResponse(shown_order(store.get(client, order_number), flaws))

    @router.post(
        "/orders/{orderNumber}/attachments", tags=["orders"], operation_id="uploadAttachment", status_code=201,
        response_model=Attachment, summary="Attach a file: the raw content as the body.",
        responses={201: {"description": "Stored.", "headers": REPLAYED_HEADER},
                   **problems(400, 401, 404, 413, 415, 422)},
        openapi_extra={"requestBody": {"required": True, "description": (
            f"The file's bytes, at most {max_upload_bytes} bytes, with its media type as Content-Type."),
            # OpenAPI 3.1: a media type without a schema is raw bytes; any media type, the file's own.
            "content": {"*/*": {}}}},
    )
    async def upload_attachment(
        request: Request,
        client: Client,
        order_number: Annotated[str, _order_number()],
        content_disposition: Annotated[str, Header(
            alias="Content-Disposition", description="`attachment; filename*=UTF-8''<name>` (or filename=).")],
        repr_digest: Annotated[str | None, Header(
            alias="Repr-Digest", description="RFC 9530 `sha-256=:<base64>:`; checked against the content.")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        if not store.exists(client, order_number):
            raise ProblemError(404, "Not Found", "no such order")
        media_type = _media_type(request.headers.get("content-type"))
        name = _filename(content_disposition)
        expected = _expected_sha256(repr_digest)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_upload_bytes:
            raise _too_large(max_upload_bytes)
        digest, size = hashlib.sha256(), 0
        kept = TextColumn() if "truncates-documents" in flaws else None
        async for chunk in request.stream():  # hashed as it arrives: the content is never held whole
            size += len(chunk)
            if size > max_upload_bytes:
                raise _too_large(max_upload_bytes)
            digest.update(chunk)
            if kept is not None:
                kept.feed(chunk)
        if expected is not None and digest.digest() != expected:
            raise ProblemError(400, "Bad Request", "the Repr-Digest sha-256 does not match the content received")
        sha256 = digest.hexdigest()
        if kept is not None:  # checked the bytes it got, then stored fewer
            sha256, size = kept.digest.hexdigest(), kept.size

        def attach() -> tuple[int, dict[str, Any], dict[str, str]]:
            return 201, store.add_attachment(client, order_number, name, media_type, size, sha256), {}

        asked = fingerprint("POST", "attachments", order_number, name, media_type, sha256)
        return _answer(*store.once(client, idempotency_key, asked, attach))

    @router.post("/orders/{orderNumber}/notes", tags=["orders"], operation_id="addNote", status_code=201,
                 response_model=Note, summary="Add a note (e.g. an amendment from the reporter).",
                 responses={201: {"description": "Added.", "headers": REPLAYED_HEADER},
                            **problems(401, 404, 415, 422)})
    def add_note(body: NoteCreate, client: Client, order_number: Annotated[str, _order_number()],
                 idempotency_key: IdempotencyKey = None) -> Any:
        def note() -> tuple[int, dict[str, Any], dict[str, str]]:
            return 201, store.add_note(client, order_number, body.text), {}

        asked = fingerprint("POST", "notes", order_number, body.text)
        return _answer(*store.once(client, idempotency_key, asked, note))

    @router.get("/changes", tags=["changes"], operation_id="listChanges", response_model=ChangeList,
                summary="Status changes of the client's orders after `since`, oldest first.",
                responses=problems(401, 422))
    def list_changes(client: Client, since: Annotated[AwareDatetime | None, Query(
            description="ISO 8601 with an offset; give the last answer's `until`.")] = None) -> Any:
        changes, until = store.changes(client, since)
        return JSONResponse({"changes": changes, "until": until})

    app.include_router(router)
    app.openapi = lambda: _document(app)  # type: ignore[method-assign]
    return app


# --- helpers ---------------------------------------------------------------------------------------


def _answer(remembered: Any, replayed: bool) -> JSONResponse:
    headers = dict(remembered.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(jsonable_encoder(remembered.body), status_code=remembered.status, headers=headers)


def _order_number() -> Any:
    return Path(alias="orderNumber", min_length=1, max_length=40, description="e.g. AO-2026-00001")


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _media_type(content_type: str | None) -> str:
    mimetype, _ = parse_options_header(content_type or "")
    if "/" not in mimetype:
        raise ProblemError(415, "Unsupported Media Type", "an attachment needs a Content-Type naming its media type")
    return mimetype


def _filename(content_disposition: str) -> str:
    _, options = parse_options_header(content_disposition)
    name = (options.get("filename") or "").strip()  # werkzeug decodes filename* (RFC 5987) into filename
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ProblemError(400, "Bad Request", "Content-Disposition must name the file (filename* or filename), "
                                               "without a directory", errors=[
            {"field": "header.Content-Disposition", "rule": "filename_required"}])
    return name


def _expected_sha256(repr_digest: str | None) -> bytes | None:
    if repr_digest is None:
        return None
    match = REPR_DIGEST_SHA256.search(repr_digest)
    if match is None:
        return None  # only other algorithms: nothing this service checks
    try:
        expected = base64.b64decode(match.group(1), validate=True)
    except binascii.Error:
        expected = b""
    if len(expected) != 32:
        raise ProblemError(400, "Bad Request", "Repr-Digest sha-256 is not 32 bytes of base64", errors=[
            {"field": "header.Repr-Digest", "rule": "sha256_base64"}])
    return expected


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, "Content Too Large", f"an attachment is at most {limit} bytes")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus what it cannot say by itself: the problem and OAuth error schemas the error
    answers refer to, and that the token endpoint takes the client's credentials by Basic auth or in the form."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                           servers=app.servers)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, OAuthError):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    document["components"].setdefault("securitySchemes", {})["clientBasic"] = {
        "type": "http", "scheme": "basic", "description": "The client id and secret, for the token endpoint."}
    token = document["paths"][TOKEN_PATH]["post"]
    token["security"] = [{"clientBasic": []}, {}]  # {}: or client_id and client_secret in the form
    app.openapi_schema = document
    return document
