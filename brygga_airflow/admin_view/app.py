"""Brygga's admin view: search, trace, quarantine and health, as pages and as JSON, inside Airflow's API server.

Mounted by the plugin at ``/brygga/admin`` and shown in Airflow's menu as "Brygga". Every request needs the caller
signed in to Airflow (``access.authorize``, in a middleware that runs before any endpoint or body parsing) with the
permission it needs: view, act (replay, discard) or reveal (personal data in clear). Pages are rendered on the
server (Jinja2, one style sheet, one small script for "select all"); personal data is masked unless revealed, and a
reveal is audited. The search form is posted: what was typed reaches a URL (a redirect to the results, a next
page's link) only after the check that it is no personnummer. A personnummer to search by is turned into its keyed
hash here, is never written back into a page, a URL or a log, and every such search is audited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.datastructures import FormData
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from brygga.admin import (
    PERSON_KEY_CONNECTION,
    REPLAY_FROM,
    QuarantineFilter,
    SearchQuery,
    SubmissionRow,
    health,
    masked_case,
    person_key,
    person_key_secret,
    quarantine_groups,
    quarantined,
    reveal,
    trace,
)
from brygga.admin.audited_search import audited_search
from brygga.canonical.serialize import loads_case
from brygga.connections import ConnectionResolver, EnvConnectionResolver
from brygga.errors import ConfigError
from brygga.ledger import Ledger, State
from brygga.ledger.models import utcnow
from brygga.settings import Settings
from brygga_airflow.admin_view import present
from brygga_airflow.admin_view.access import (
    AirflowAuthorizer,
    Authorizer,
    Caller,
    Permission,
    authorize,
    is_api,
    matched_route,
    needs,
    required_permission,
)
from brygga_airflow.admin_view.actions import Actions, Outcome, Trigger
from brygga_airflow.admin_view.errors import NoSuchSubmission, NotSignedIn, ViewError
from brygga_airflow.admin_view.ledgers import Ledgers, present_values

URL_PREFIX = "/brygga/admin"
HERE = Path(__file__).resolve().parent
STATES = [State.LANDED, State.TRANSLATED, State.DELIVERED, State.ARCHIVED, State.COMPLETED, State.QUARANTINED,
          State.DUPLICATE, State.SUPERSEDED, State.DISCARDED]
STEPS = list(REPLAY_FROM)
HEALTH_WINDOWS = {1: "the last hour", 24: "the last 24 hours", 168: "the last 7 days", 720: "the last 30 days"}
SECURITY_HEADERS = {
    # Framed by Airflow's own UI (same origin) and nothing else; no script or style from anywhere else.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
                               "object-src 'none'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

class SearchBody(BaseModel):
    text: str | None = None
    route: str | None = None
    tenant: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    personnummer: str | None = Field(default=None, description="hashed with the brygga_person_key secret; never "
                                                               "stored, logged or returned; the search is audited")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class FilterBody(BaseModel):
    route: str = Field(min_length=1, description="required: a replay by filter takes one route's quarantine")
    step: str | None = None
    reason: str | None = None
    tenant: str | None = None


class ReplayBody(BaseModel):
    submission_ids: list[str] = Field(default_factory=list)
    filter: FilterBody | None = None  # instead of ids: every quarantined submission of a route matching it


class DiscardBody(BaseModel):
    submission_ids: list[str]
    reason: str = Field(pattern=r"\S", description="why these submissions are let go (required)")


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


async def _posted_form(request: Request) -> FormData:
    return await request.form()


def create_app(*, settings_factory: Callable[[], Settings] = Settings.from_env,
               connections: ConnectionResolver | None = None, authorizer: Authorizer | None = None,
               trigger: Trigger | None = None) -> FastAPI:
    """The admin app. ``authorizer`` is Airflow's auth manager unless given; ``connections`` finds the personnummer
    search secret (default: ``BRYGGA_CONN_<ID>``); ``trigger`` queues a route's run after a replay."""
    guard = authorizer or AirflowAuthorizer()
    resolver = connections or EnvConnectionResolver()
    ledgers = Ledgers(settings_factory)
    actions = Actions(ledgers, trigger)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.autoescape = True  # Starlette escapes by file name only: every template here is HTML
    templates.env.filters.update(when=present.when, duration=present.duration, percent=present.percent)
    templates.env.globals.update(party_lines=present.party_lines, Permission=Permission)
    static_files = {p.name: p for p in (HERE / "static").iterdir() if p.is_file()}

    app = FastAPI(title="Brygga admin", version="1", docs_url=None, redoc_url=None, openapi_url=None)

    # --- who may: before routing reads a body, so an anonymous caller always gets 401 (or the login) -----------

    @app.middleware("http")
    async def check_access(request: Request, call_next: RequestResponseEndpoint) -> Response:
        route = matched_route(app.router.routes, request.scope)
        try:
            await authorize(request, guard, required_permission(route, request.method))
        except NotSignedIn as refusal:
            return to_login(request, refusal)
        except ViewError as refusal:
            return error(request, refusal.status, refusal.message)
        return await call_next(request)

    app.add_middleware(_SecurityHeaders)  # outermost: refusals get the headers too

    def to_login(request: Request, refusal: NotSignedIn) -> Response:
        if is_api(request.scope):
            return JSONResponse({"detail": refusal.message}, status_code=refusal.status,
                                headers={"WWW-Authenticate": "Bearer"})
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            back = _root(request) + "/"
        return RedirectResponse(guard.login_url(back), status_code=303)

    # --- errors ------------------------------------------------------------------------------------------------

    @app.exception_handler(ViewError)
    async def refused(request: Request, problem: ViewError) -> Response:
        return error(request, problem.status, problem.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, problem: RequestValidationError) -> Response:
        # Without the values sent: one of them may be a personnummer.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in problem.errors()]
        if is_api(request.scope):
            return JSONResponse({"detail": errors}, status_code=422)
        return error(request, 422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))

    def error(request: Request, status: int, message: str) -> Response:
        if is_api(request.scope):
            return JSONResponse({"detail": message}, status_code=status)
        return page(request, "error.html", status=status, title=f"Error {status}", message=message)

    # --- rendering ---------------------------------------------------------------------------------------------

    def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        caller: Caller | None = getattr(request.state, "caller", None)
        return templates.TemplateResponse(request, template, {
            "caller": caller, "url": lambda path, **params: _url(request, path, **params),
            "airflow_base": _root(request).removesuffix(URL_PREFIX), **context}, status_code=status)

    def actor(request: Request) -> str:
        return request.state.caller.name

    # --- search ------------------------------------------------------------------------------------------------

    def key_of(personnummer: str) -> str:
        """The personnummer's search key; ViewError (never naming the number) when it cannot be made."""
        try:
            secret = person_key_secret(resolver)
        except ConfigError as exc:
            raise ViewError(str(exc), 503) from None
        if secret is None:
            raise ViewError(f"searching by personnummer needs the Airflow connection {PERSON_KEY_CONNECTION} "
                            f"(its password is the search key's secret)", 503)
        try:
            return person_key(personnummer, secret)
        except ValueError:
            raise ViewError("not a valid personnummer") from None

    def run_search(request: Request, query: SearchQuery, *, limit: int,
                   offset: int) -> tuple[int, list[SubmissionRow]]:
        return audited_search(ledgers.get(), query, actor=actor(request), limit=limit, offset=offset)

    def search_page(request: Request, form: present.SearchForm, *, personnummer: str = "") -> HTMLResponse:
        routes, tenants = present_values(ledgers.get())
        rows: list[SubmissionRow] = []
        total, status, problem = 0, 200, None
        try:
            query = form.query(key_of(personnummer) if personnummer else None)
            total, rows = run_search(request, query, limit=present.PAGE_SIZE,
                                     offset=(form.page - 1) * present.PAGE_SIZE)
        except present.PersonalText as exc:  # neither searched nor written back into the form
            form, status, problem = dataclasses.replace(form, text=""), 400, str(exc)
        except ValueError as exc:
            status, problem = 400, str(exc)
        except ViewError as exc:
            status, problem = exc.status, exc.message
        pages = max(1, -(-total // present.PAGE_SIZE))
        return page(request, "search.html", title="Submissions", form=form, rows=rows, total=total, pages=pages,
                    routes=routes, tenants=tenants, states=STATES, problem=problem, by_person=bool(personnummer),
                    status=status)

    @app.get("/", response_class=HTMLResponse)
    def search_submissions(request: Request) -> HTMLResponse:
        """The results of a search already checked (the redirect after the form, a next page's link)."""
        return search_page(request, present.SearchForm.read(request.query_params))

    @app.post("/search", response_class=HTMLResponse)
    @needs(Permission.VIEW)  # a search: posted so that what was typed stays out of URLs and logs until checked
    def search_posted(request: Request, values: Annotated[FormData, Depends(_posted_form)]) -> Response:
        form = present.SearchForm.read(values)
        personnummer = str(values.get("personnummer") or "").strip()
        if personnummer:
            return search_page(request, form, personnummer=personnummer)
        try:
            form.query()
        except ValueError:  # the page says what is wrong, and writes no personal text back
            return search_page(request, form)
        return RedirectResponse(_url(request, "/", **form.params()), status_code=303)

    # --- trace -------------------------------------------------------------------------------------------------

    def trace_page(request: Request, submission_id: str, *, revealed: dict[str, Any] | None = None) -> HTMLResponse:
        ledger = ledgers.get()
        found = _trace(ledger, submission_id)
        case = None if found.purged else _case(ledger, submission_id)
        return page(request, "trace.html", title=f"Submission {submission_id}", trace=found,
                    masked=masked_case(case) if case else None, revealed=revealed,
                    notice=_notice(request.query_params))

    def revealed_case(request: Request, submission_id: str) -> dict[str, Any]:
        """The case in clear, audited first; an unknown id is 404 without an audit row (reveal looks it up first)."""
        try:
            return reveal(ledgers.get(), submission_id, actor=actor(request))
        except LookupError:
            raise NoSuchSubmission from None

    @app.get("/submissions/{submission_id}", response_class=HTMLResponse)
    def show_submission(request: Request, submission_id: str) -> HTMLResponse:
        return trace_page(request, submission_id)

    @app.post("/submissions/{submission_id}/reveal", response_class=HTMLResponse)
    @needs(Permission.REVEAL)
    def reveal_submission(request: Request, submission_id: str) -> HTMLResponse:
        return trace_page(request, submission_id, revealed=revealed_case(request, submission_id))

    # --- quarantine pages --------------------------------------------------------------------------------------

    @app.get("/quarantine", response_class=HTMLResponse)
    def show_quarantine(request: Request, route: str = "", step: str = "", reason: str = "") -> HTMLResponse:
        ledger = ledgers.get()
        flt = QuarantineFilter(route=route or None, step=step or None, reason=reason.strip() or None)
        rows = {row.submission.id: row for row in quarantined(ledger, flt)}
        groups = [(group, [rows[i] for i in group.submission_ids if i in rows])
                  for group in quarantine_groups(ledger, flt)]
        routes, _ = present_values(ledger)
        return page(request, "quarantine.html", title="Quarantine", groups=groups, total=len(rows), routes=routes,
                    steps=STEPS, chosen={"route": route, "step": step, "reason": reason},
                    notice=_notice(request.query_params))

    def after_action(request: Request, verb: str, outcome: Outcome, *, back: str = "") -> RedirectResponse:
        """Back to where the form was (post, redirect, get), with what was done: counts only."""
        params = {"notice": verb, "n": len(outcome.done), "failed": len(outcome.failed) or None,
                  "queued": len(outcome.runs_queued_for) if verb == "replayed" else None}
        single = [*outcome.done, *outcome.failed]
        path = f"/submissions/{quote(single[0], safe='')}" if back == "trace" and len(single) == 1 else "/quarantine"
        return RedirectResponse(_url(request, path, **params), status_code=303)

    def chosen(ids: list[str] | None, verb: str) -> list[str]:
        if not ids:
            raise ViewError(f"Select at least one submission to {verb}.")
        return ids

    @app.post("/quarantine/replay")
    def replay_selected(request: Request, submission_id: Annotated[list[str] | None, Form()] = None,
                        back: Annotated[str, Form()] = "") -> Response:
        outcome = actions.replay(chosen(submission_id, "replay"), actor=actor(request))
        return after_action(request, "replayed", outcome, back=back)

    @app.post("/quarantine/replay-by-filter")
    def replay_by_filter(request: Request, route: Annotated[str, Form()] = "", step: Annotated[str, Form()] = "",
                         reason: Annotated[str, Form()] = "") -> Response:
        if not route:
            raise ViewError("Choose the route whose quarantined submissions to replay.")
        flt = QuarantineFilter(route=route, step=step or None, reason=reason.strip() or None)
        return after_action(request, "replayed", actions.replay_matching(flt, actor=actor(request)))

    @app.post("/quarantine/discard")
    def discard_selected(request: Request, submission_id: Annotated[list[str] | None, Form()] = None,
                         reason: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "") -> Response:
        ids = chosen(submission_id, "discard")
        if not reason.strip():
            raise ViewError("A discard needs a reason: write why these submissions are let go.")
        return after_action(request, "discarded", actions.discard(ids, actor=actor(request), reason=reason),
                            back=back)

    # --- health ------------------------------------------------------------------------------------------------

    @app.get("/health", response_class=HTMLResponse)
    def show_health(request: Request, hours: int = 24) -> HTMLResponse:
        hours = hours if hours in HEALTH_WINDOWS else 24
        now = utcnow()
        routes = health(ledgers.get(), since=now - timedelta(hours=hours), now=now)
        return page(request, "health.html", title="Health", routes=routes, hours=hours, windows=HEALTH_WINDOWS)

    @app.get("/static/{name}")
    def static(name: str) -> FileResponse:
        if name not in static_files:
            raise ViewError("no such file", 404)
        return FileResponse(static_files[name])

    # --- JSON, for scripts -------------------------------------------------------------------------------------

    def api_rows(request: Request, *, limit: int, offset: int, **fields: Any) -> dict[str, Any]:
        try:
            query = present.search_query(**fields)
        except ValueError as exc:
            raise ViewError(str(exc), 422) from None
        total, rows = run_search(request, query, limit=limit, offset=offset)
        return {"count": total, "submissions": present.jsonable(rows)}

    @app.get("/api/submissions")
    def api_search(request: Request, text: str | None = None, route: str | None = None, tenant: str | None = None,
                   state: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        return api_rows(request, limit=limit, offset=offset, text=text, route=route, tenant=tenant, state=state,
                        since=since, until=until)

    @app.post("/api/submissions/search")
    @needs(Permission.VIEW)
    def api_search_by_person(request: Request, body: SearchBody) -> dict[str, Any]:
        number = (body.personnummer or "").strip()
        return api_rows(request, limit=body.limit, offset=body.offset, text=body.text, route=body.route,
                        tenant=body.tenant, state=body.state, since=body.since, until=body.until,
                        person_key=key_of(number) if number else None)

    @app.get("/api/submissions/{submission_id}")
    def api_trace(submission_id: str) -> dict[str, Any]:
        return present.jsonable(_trace(ledgers.get(), submission_id))

    @app.post("/api/submissions/{submission_id}/reveal")
    @needs(Permission.REVEAL)
    def api_reveal(request: Request, submission_id: str) -> dict[str, Any]:
        return {"submission_id": submission_id, "case": revealed_case(request, submission_id)}

    @app.get("/api/quarantine")
    def api_quarantine(route: str | None = None, step: str | None = None, reason: str | None = None,
                       tenant: str | None = None) -> dict[str, Any]:
        ledger = ledgers.get()
        flt = QuarantineFilter(route=route, step=step, reason=reason, tenant=tenant)
        return {"groups": present.jsonable(quarantine_groups(ledger, flt)),
                "submissions": present.jsonable(quarantined(ledger, flt))}

    @app.post("/api/quarantine/replay")
    def api_replay(request: Request, body: ReplayBody) -> dict[str, Any]:
        if body.filter is not None and not body.submission_ids:
            outcome = actions.replay_matching(QuarantineFilter(**body.filter.model_dump()), actor=actor(request))
        elif body.submission_ids and body.filter is None:
            outcome = actions.replay(body.submission_ids, actor=actor(request))
        else:
            raise ViewError("give either submission_ids or a filter (with its route)", 422)
        return {"replayed": outcome.done, "failed": outcome.failed, "runs_queued_for": outcome.runs_queued_for}

    @app.post("/api/quarantine/discard")
    def api_discard(request: Request, body: DiscardBody) -> dict[str, Any]:
        outcome = actions.discard(body.submission_ids, actor=actor(request), reason=body.reason)
        return {"discarded": outcome.done, "failed": outcome.failed}

    @app.get("/api/health")
    def api_health(hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24) -> dict[str, Any]:
        now = utcnow()
        return {"since": (now - timedelta(hours=hours)).isoformat(), "now": now.isoformat(),
                "routes": present.jsonable(health(ledgers.get(), since=now - timedelta(hours=hours), now=now))}

    return app


def _root(request: Request) -> str:
    """Where this app is mounted, as the browser sees it (``/brygga/admin``, behind Airflow's base path)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _url(request: Request, path: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)
    return f"{_root(request)}{path}" + (f"?{query}" if query else "")


def _trace(ledger: Ledger, submission_id: str) -> Any:
    try:
        return trace(ledger, submission_id)
    except LookupError:
        raise NoSuchSubmission from None


def _case(ledger: Ledger, submission_id: str) -> dict[str, Any] | None:
    stored = ledger.get(submission_id).canonical_json
    return loads_case(stored) if stored else None


def _notice(params: Any) -> dict[str, int | str] | None:
    """What the last action did, from the redirect's query (counts only, so a crafted link can say nothing else)."""
    verb = params.get("notice")
    if verb not in ("replayed", "discarded"):
        return None

    def number(name: str) -> int:
        value = str(params.get(name) or "0")
        return int(value) if value.isdigit() else 0

    return {"verb": verb, "n": number("n"), "failed": number("failed"), "queued": number("queued")}
