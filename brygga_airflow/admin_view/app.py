"""Brygga's admin view: search, trace, quarantine and health, as pages and as JSON, inside Airflow's API server.

Mounted by the plugin at ``/brygga/admin`` and shown in Airflow's menu as "Brygga". Every endpoint needs the caller
signed in to Airflow (``access.authorize``, a dependency of the whole app) with the permission it needs: view,
act (replay, discard) or reveal (personal data in clear). Pages are rendered on the server (Jinja2, one style
sheet, one small script for "select all"); personal data is masked unless revealed, and a reveal is audited.
A personnummer to search by comes in a POST body, is turned into its keyed hash here and is never written back
into a page, a URL or a log.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from brygga.admin import (
    PERSON_KEY_CONNECTION,
    REPLAY_FROM,
    QuarantineFilter,
    SearchQuery,
    count,
    discard,
    health,
    masked_case,
    person_key,
    person_key_secret,
    quarantine_groups,
    quarantined,
    replay,
    replay_many,
    reveal,
    search,
    trace,
)
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
    Forbidden,
    NotSignedIn,
    Permission,
    authorize,
    is_api,
    needs,
)
from brygga_airflow.admin_view.ledgers import Ledgers, NoLedger, present_values

log = logging.getLogger("brygga.airflow.admin")

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

# After a replay, queue a run of the route's DAG: (route id, who replayed) -> whether a run was queued.
Trigger = Callable[[str, str], bool]


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SearchBody(BaseModel):
    text: str | None = None
    route: str | None = None
    tenant: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    personnummer: str | None = Field(default=None, description="hashed with the brygga_person_key secret; never "
                                                               "stored, logged or returned")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class FilterBody(BaseModel):
    route: str | None = None
    step: str | None = None
    reason: str | None = None
    tenant: str | None = None


class ReplayBody(BaseModel):
    submission_ids: list[str] = Field(default_factory=list)
    filter: FilterBody | None = None  # instead of ids: every quarantined submission matching it


class DiscardBody(BaseModel):
    submission_ids: list[str]
    reason: str


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(*, settings_factory: Callable[[], Settings] = Settings.from_env,
               connections: ConnectionResolver | None = None, authorizer: Authorizer | None = None,
               trigger: Trigger | None = None) -> FastAPI:
    """The admin app. ``authorizer`` is Airflow's auth manager unless given; ``connections`` finds the personnummer
    search secret (default: ``BRYGGA_CONN_<ID>``); ``trigger`` queues a route's run after a replay."""
    guard = authorizer or AirflowAuthorizer()
    resolver = connections or EnvConnectionResolver()
    ledgers = Ledgers(settings_factory)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters.update(when=present.when, duration=present.duration, percent=present.percent)
    templates.env.globals.update(party_lines=present.party_lines, Permission=Permission)
    static_files = {p.name: p for p in (HERE / "static").iterdir() if p.is_file()}

    async def check_access(request: Request) -> None:
        await authorize(request, guard)

    app = FastAPI(title="Brygga admin", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(check_access)])
    app.add_middleware(_SecurityHeaders)

    # --- refusals and errors -------------------------------------------------------------------------------

    def wants_json(request: Request) -> bool:
        return is_api(request.scope.get("route"))

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _: NotSignedIn) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": "not signed in to Airflow"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            back = _root(request) + "/"
        return RedirectResponse(guard.login_url(back), status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, refusal: Forbidden) -> Response:
        return error(request, 403, refusal.detail)

    @app.exception_handler(PageError)
    async def page_error(request: Request, problem: PageError) -> Response:
        return error(request, problem.status, problem.message)

    @app.exception_handler(NoLedger)
    async def no_ledger(request: Request, problem: NoLedger) -> Response:
        return error(request, 503, str(problem))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, problem: RequestValidationError) -> Response:
        # Without the values sent: one of them may be a personnummer.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in problem.errors()]
        if wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        return error(request, 422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))

    def error(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": message}, status_code=status)
        return page(request, "error.html", status=status, title=f"Error {status}", message=message)

    # --- rendering ---------------------------------------------------------------------------------------------

    def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        root = _root(request)
        caller: Caller | None = getattr(request.state, "caller", None)

        def url(path: str, **params: Any) -> str:
            query = urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)
            return f"{root}{path}" + (f"?{query}" if query else "")

        return templates.TemplateResponse(request, template, {
            "caller": caller, "url": url, "airflow_base": root.removesuffix(URL_PREFIX), **context},
            status_code=status)

    def actor(request: Request) -> str:
        return request.state.caller.name

    # --- search ------------------------------------------------------------------------------------------------

    def search_page(request: Request, form: present.SearchForm, *, person_key_value: str | None = None,
                    by_person: bool = False, problem: str | None = None) -> HTMLResponse:
        ledger = ledgers.get()
        routes, tenants = present_values(ledger)
        rows: list[Any] = []
        total = 0
        if present.looks_personal(form.text):  # neither searched nor written back into the form
            form, problem = dataclasses.replace(form, text=""), present.PERSONAL_TEXT
        if problem is None:
            try:
                query = form.query(person_key_value)
            except ValueError as exc:
                problem = str(exc)
            else:
                total = count(ledger, query)
                rows = search(ledger, query, limit=present.PAGE_SIZE, offset=(form.page - 1) * present.PAGE_SIZE)
        pages = max(1, -(-total // present.PAGE_SIZE))
        return page(request, "search.html", title="Submissions", form=form, rows=rows, total=total, pages=pages,
                    routes=routes, tenants=tenants, states=STATES, problem=problem, by_person=by_person,
                    status=400 if problem else 200)

    def key_of(personnummer: str) -> str:
        """The personnummer's search key; PageError (never naming the number) when it cannot be made."""
        try:
            secret = person_key_secret(resolver)
        except ConfigError as exc:
            raise PageError(503, str(exc)) from None
        if secret is None:
            raise PageError(503, f"searching by personnummer needs the Airflow connection {PERSON_KEY_CONNECTION} "
                                 f"(its password is the search key's secret)")
        try:
            return person_key(personnummer, secret)
        except ValueError:
            raise PageError(400, "not a valid personnummer") from None

    @app.get("/", response_class=HTMLResponse)
    def search_submissions(request: Request) -> HTMLResponse:
        return search_page(request, present.SearchForm.read(request.query_params))

    @app.post("/search", response_class=HTMLResponse)
    @needs(Permission.VIEW)  # a search, posted only so the personnummer stays out of URLs and logs
    def search_by_person(request: Request, personnummer: Annotated[str, Form()] = "",
                         text: Annotated[str, Form()] = "", route: Annotated[str, Form()] = "",
                         tenant: Annotated[str, Form()] = "", state: Annotated[str, Form()] = "",
                         from_date: Annotated[str, Form()] = "", to_date: Annotated[str, Form()] = "") -> HTMLResponse:
        form = present.SearchForm(text=text.strip(), route=route, tenant=tenant, state=state,
                                  from_date=from_date.strip(), to_date=to_date.strip())
        if not personnummer.strip():
            return search_page(request, form)
        try:
            key = key_of(personnummer.strip())
        except PageError as problem:
            return search_page(request, form, by_person=True, problem=problem.message)
        return search_page(request, form, person_key_value=key, by_person=True)

    # --- trace -------------------------------------------------------------------------------------------------

    def trace_page(request: Request, submission_id: str, *, revealed: dict[str, Any] | None = None) -> HTMLResponse:
        ledger = ledgers.get()
        found = _trace(ledger, submission_id)
        case = None if found.purged else _case(ledger, submission_id)
        return page(request, "trace.html", title=f"Submission {submission_id}", trace=found,
                    masked=masked_case(case) if case else None, revealed=revealed,
                    notice=_notice(request.query_params))

    @app.get("/submissions/{submission_id}", response_class=HTMLResponse)
    def show_submission(request: Request, submission_id: str) -> HTMLResponse:
        return trace_page(request, submission_id)

    @app.post("/submissions/{submission_id}/reveal", response_class=HTMLResponse)
    @needs(Permission.REVEAL)
    def reveal_submission(request: Request, submission_id: str) -> HTMLResponse:
        ledger = ledgers.get()
        _trace(ledger, submission_id)  # 404 before an audit row for nothing
        case = reveal(ledger, submission_id, actor=actor(request))
        return trace_page(request, submission_id, revealed=case)

    # --- quarantine --------------------------------------------------------------------------------------------

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

    def after_action(request: Request, verb: str, done: Iterable[tuple[str, str]], failed: int, *,
                     back_to: str | None) -> RedirectResponse:
        """Queue a run per route replayed, then back to where the form was (post, redirect, get)."""
        done = list(done)
        queued = 0
        if verb == "replayed" and trigger is not None:
            for route_id in sorted({route_id for _, route_id in done}):
                queued += bool(_safely_trigger(trigger, route_id, actor(request)))
        params = {"notice": verb, "n": len(done), "failed": failed or None,
                  "queued": queued if verb == "replayed" else None}
        path = f"/submissions/{quote(back_to, safe='')}" if back_to else "/quarantine"
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return RedirectResponse(f"{_root(request)}{path}?{query}", status_code=303)

    def act_on_each(ledger: Ledger, ids: list[str], do: Callable[[str], None]) -> tuple[list[tuple[str, str]], int]:
        done, failed = [], 0
        for submission_id in dict.fromkeys(ids):
            try:
                do(submission_id)
            except (LookupError, ValueError) as exc:
                log.info("admin: %s", exc)
                failed += 1
                continue
            done.append((submission_id, ledger.get(submission_id).route_id))
        return done, failed

    def back_target(back: str, ids: list[str]) -> str | None:
        return ids[0] if back == "trace" and len(ids) == 1 else None

    @app.post("/quarantine/replay")
    def replay_selected(request: Request, submission_id: Annotated[list[str] | None, Form()] = None,
                        back: Annotated[str, Form()] = "") -> Response:
        ids = list(submission_id or [])
        if not ids:
            raise PageError(400, "Select at least one submission to replay.")
        ledger = ledgers.get()

        def replay_one(one: str) -> None:
            replay(ledger, one, actor=actor(request))

        done, failed = act_on_each(ledger, ids, replay_one)
        return after_action(request, "replayed", done, failed, back_to=back_target(back, ids))

    @app.post("/quarantine/replay-by-filter")
    def replay_by_filter(request: Request, route: Annotated[str, Form()] = "", step: Annotated[str, Form()] = "",
                         reason: Annotated[str, Form()] = "") -> Response:
        if not route:
            raise PageError(400, "Choose the route whose quarantined submissions to replay.")
        ledger = ledgers.get()
        flt = QuarantineFilter(route=route, step=step or None, reason=reason.strip() or None)
        failures: list[str] = []
        replayed = replay_many(ledger, flt, actor=actor(request),
                               on_each=lambda i, r: failures.append(i) if isinstance(r, Exception) else None)
        return after_action(request, "replayed", [(r.submission_id, route) for r in replayed], len(failures),
                            back_to=None)

    @app.post("/quarantine/discard")
    def discard_selected(request: Request, submission_id: Annotated[list[str] | None, Form()] = None,
                         reason: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "") -> Response:
        ids = list(submission_id or [])
        if not ids:
            raise PageError(400, "Select at least one submission to discard.")
        if not reason.strip():
            raise PageError(400, "A discard needs a reason: write why these submissions are let go.")
        ledger = ledgers.get()
        done, failed = act_on_each(ledger, ids, lambda i: discard(ledger, i, actor=actor(request), reason=reason))
        return after_action(request, "discarded", done, failed, back_to=back_target(back, ids))

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
            raise PageError(404, "no such file")
        return FileResponse(static_files[name])

    # --- JSON, for scripts ---------------------------------------------------------------------------------------

    def api_rows(query: SearchQuery, limit: int, offset: int) -> dict[str, Any]:
        if present.looks_personal(query.text or ""):
            raise PageError(422, present.PERSONAL_TEXT)
        ledger = ledgers.get()
        return {"count": count(ledger, query),
                "submissions": present.jsonable(search(ledger, query, limit=limit, offset=offset))}

    @app.get("/api/submissions")
    def api_search(text: str | None = None, route: str | None = None, tenant: str | None = None,
                   state: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        return api_rows(SearchQuery(text=text, route=route, tenant=tenant, state=state, since=since, until=until),
                        limit, offset)

    @app.post("/api/submissions/search")
    @needs(Permission.VIEW)
    def api_search_by_person(body: SearchBody) -> dict[str, Any]:
        key = key_of(body.personnummer.strip()) if body.personnummer and body.personnummer.strip() else None
        query = SearchQuery(text=body.text, route=body.route, tenant=body.tenant, state=body.state,
                            since=body.since, until=body.until, person_key=key)
        return api_rows(query, body.limit, body.offset)

    @app.get("/api/submissions/{submission_id}")
    def api_trace(submission_id: str) -> dict[str, Any]:
        return present.jsonable(_trace(ledgers.get(), submission_id))

    @app.post("/api/submissions/{submission_id}/reveal")
    @needs(Permission.REVEAL)
    def api_reveal(request: Request, submission_id: str) -> dict[str, Any]:
        ledger = ledgers.get()
        _trace(ledger, submission_id)
        return {"submission_id": submission_id, "case": reveal(ledger, submission_id, actor=actor(request))}

    @app.get("/api/quarantine")
    def api_quarantine(route: str | None = None, step: str | None = None, reason: str | None = None,
                       tenant: str | None = None) -> dict[str, Any]:
        ledger = ledgers.get()
        flt = QuarantineFilter(route=route, step=step, reason=reason, tenant=tenant)
        return {"groups": present.jsonable(quarantine_groups(ledger, flt)),
                "submissions": present.jsonable(quarantined(ledger, flt))}

    @app.post("/api/quarantine/replay")
    def api_replay(request: Request, body: ReplayBody) -> dict[str, Any]:
        if bool(body.submission_ids) == (body.filter is not None):
            raise PageError(422, "give either submission_ids or a filter")
        ledger = ledgers.get()
        failed: dict[str, str] = {}
        if body.filter is not None:
            replayed = replay_many(ledger, QuarantineFilter(**body.filter.model_dump()), actor=actor(request),
                                   on_each=lambda i, r: failed.update({i: str(r)}) if isinstance(r, Exception)
                                   else None)
        else:
            replayed = []
            for submission_id in dict.fromkeys(body.submission_ids):
                try:
                    replayed.append(replay(ledger, submission_id, actor=actor(request)))
                except (LookupError, ValueError) as exc:
                    failed[submission_id] = str(exc)
        queued = []
        if trigger is not None:
            routes = sorted({ledger.get(r.submission_id).route_id for r in replayed})
            queued = [route_id for route_id in routes if _safely_trigger(trigger, route_id, actor(request))]
        return {"replayed": present.jsonable(replayed), "failed": failed, "runs_queued_for": queued}

    @app.post("/api/quarantine/discard")
    def api_discard(request: Request, body: DiscardBody) -> dict[str, Any]:
        if not body.reason.strip():
            raise PageError(422, "a discard needs a reason")
        ledger = ledgers.get()
        done, failed = [], {}
        for submission_id in dict.fromkeys(body.submission_ids):
            try:
                discard(ledger, submission_id, actor=actor(request), reason=body.reason)
            except (LookupError, ValueError) as exc:
                failed[submission_id] = str(exc)
            else:
                done.append(submission_id)
        return {"discarded": done, "failed": failed}

    @app.get("/api/health")
    def api_health(hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24) -> dict[str, Any]:
        now = utcnow()
        return {"since": (now - timedelta(hours=hours)).isoformat(), "now": now.isoformat(),
                "routes": present.jsonable(health(ledgers.get(), since=now - timedelta(hours=hours), now=now))}

    return app


def _root(request: Request) -> str:
    """Where this app is mounted, as the browser sees it (``/brygga/admin``, behind Airflow's base path)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _trace(ledger: Ledger, submission_id: str) -> Any:
    try:
        return trace(ledger, submission_id)
    except LookupError:
        raise PageError(404, "There is no submission with that id.") from None


def _case(ledger: Ledger, submission_id: str) -> dict[str, Any] | None:
    stored = ledger.get(submission_id).canonical_json
    return loads_case(stored) if stored else None


def _safely_trigger(trigger: Trigger, route_id: str, actor: str) -> bool:
    """A run that cannot be queued is not an error of the replay: the route's schedule takes the submission."""
    try:
        return trigger(route_id, actor)
    except Exception as exc:  # e.g. the DAG is not in Airflow's database yet
        log.warning("admin: could not queue a run of route %s after a replay (%s: %s); its schedule will take it",
                    route_id, type(exc).__name__, exc)
        return False


def _notice(params: Any) -> dict[str, int | str] | None:
    """What the last action did, from the redirect's query (counts only, so a crafted link can say nothing else)."""
    verb = params.get("notice")
    if verb not in ("replayed", "discarded"):
        return None

    def number(name: str) -> int:
        value = str(params.get(name) or "0")
        return int(value) if value.isdigit() else 0

    return {"verb": verb, "n": number("n"), "failed": number("failed"), "queued": number("queued")}
