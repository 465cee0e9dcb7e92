"""Who may use the admin view: Airflow's login and auth manager decide, on every request.

Airflow does not protect a plugin's endpoints, so the app checks each request itself, in a middleware that runs
before routing reads a body (so no endpoint can be added without it, and an anonymous caller never learns what a
body should look like). The caller is identified by Airflow's own JWT: the ``Authorization: Bearer`` header
(scripts) or the cookie Airflow's login sets (the browser). What they may do is asked of the auth manager as custom
views, one resource per permission, when first needed: the endpoint's permission (and view, which every other
permission needs too); the page asks about the rest only to decide which buttons to show. Airflow's
SimpleAuthManager grants every custom view to every role, so for it Brygga adds a role floor per permission.

A state-changing request (replay, discard, reveal, a search) whose ``Origin`` (or ``Referer``) names another site is
refused, whatever carried the token: with ``[core] simple_auth_manager_all_admins`` Airflow puts a bearer token on
every request itself. One that came with the cookie must also name this site: the cookie is SameSite=Lax already,
this is the check that does not depend on the browser. A script sends neither header, so it passes with its token.
This site is Airflow's ``[api] base_url`` (scheme, host and port) when configured, else the request's ``Host``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

from fastapi import Request
from starlette.routing import Match

from brygga_airflow.admin_view.errors import Forbidden, NotSignedIn

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The JSON endpoints, under the app's prefix: refused with 401/403, never redirected to a login page.
API_PATH = "/api/"
DEFAULT_PORTS = {"http": 80, "https": 443}


class Permission(StrEnum):
    VIEW = "view"  # search, trace, quarantine and health pages
    ACT = "act"  # replay and discard
    REVEAL = "reveal"  # personal data in clear


@dataclass(frozen=True)
class Rule:
    """How a permission is asked of Airflow's auth manager, and the SimpleAuthManager role it needs at least."""

    method: str
    resource_name: str
    simple_role_floor: str


RULES = {
    Permission.VIEW: Rule("GET", "Brygga submissions", "VIEWER"),
    Permission.ACT: Rule("POST", "Brygga quarantine", "OP"),
    Permission.REVEAL: Rule("GET", "Brygga personal data", "ADMIN"),
}


class Caller:
    """The signed-in user of this request. What they may do is asked of the auth manager once per permission, when
    first needed; act and reveal also need view."""

    def __init__(self, user: Any, authorizer: Authorizer, *, by_cookie: bool) -> None:
        self.name = authorizer.user_name(user)
        self.by_cookie = by_cookie  # the token came in Airflow's cookie (a browser), not the Authorization header
        self._user = user
        self._authorizer = authorizer
        self._answers: dict[Permission, bool] = {}

    def may(self, permission: Permission | str) -> bool:
        wanted = Permission(permission)
        if wanted not in self._answers:
            sees = wanted is Permission.VIEW or self.may(Permission.VIEW)
            self._answers[wanted] = sees and self._authorizer.allows(self._user, wanted)
        return self._answers[wanted]


class Authorizer(Protocol):
    """The auth manager as the admin view needs it (Airflow's in production; a test may bring its own)."""

    cookie_name: str

    async def user_from_token(self, token: str) -> Any | None: ...

    def user_name(self, user: Any) -> str: ...

    def allows(self, user: Any, permission: Permission) -> bool: ...

    def login_url(self, next_url: str) -> str: ...

    def site_origins(self) -> list[str]: ...


class AirflowAuthorizer:
    """Airflow's configured auth manager (SimpleAuthManager, FAB, Keycloak, ...), as the API server holds it."""

    @property
    def cookie_name(self) -> str:
        from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

        return COOKIE_NAME_JWT_TOKEN

    @staticmethod
    def _manager() -> Any:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager()

    async def user_from_token(self, token: str) -> Any | None:
        from jwt import InvalidTokenError  # an expired token is one too

        try:
            return await self._manager().get_user_from_token(token)
        except InvalidTokenError:
            return None

    def user_name(self, user: Any) -> str:
        return str(user.get_name())

    def allows(self, user: Any, permission: Permission) -> bool:
        rule = RULES[permission]
        manager = self._manager()
        if not manager.is_authorized_custom_view(method=rule.method, resource_name=rule.resource_name, user=user):
            return False
        return _simple_role_floor(manager, user, rule)

    def login_url(self, next_url: str) -> str:
        return str(self._manager().get_url_login(next_url=next_url))

    def site_origins(self) -> list[str]:
        """Airflow's public address, when configured: behind a proxy the Host header may be an internal one."""
        from airflow.configuration import conf

        base_url = conf.get("api", "base_url", fallback="") or ""
        return [base_url] if base_url.startswith(("http://", "https://")) else []


def _simple_role_floor(manager: Any, user: Any, rule: Rule) -> bool:
    """SimpleAuthManager allows every custom view to any role: there, act needs op and reveal needs admin."""
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import (
        SimpleAuthManager,
        SimpleAuthManagerRole,
    )

    if not isinstance(manager, SimpleAuthManager):
        return True
    role = str(getattr(user, "role", None) or "").upper()
    if role not in SimpleAuthManagerRole.__members__:
        return False
    return SimpleAuthManagerRole[role].order >= SimpleAuthManagerRole[rule.simple_role_floor].order


def needs(permission: Permission):  # type: ignore[no-untyped-def]
    """Mark an endpoint with the permission it needs. Unmarked: view for GET, act for anything that changes."""

    def mark(endpoint):  # type: ignore[no-untyped-def]
        endpoint.brygga_permission = permission
        return endpoint

    return mark


def required_permission(route: Any, method: str) -> Permission:
    marked = getattr(getattr(route, "endpoint", None), "brygga_permission", None)
    if marked is not None:
        return Permission(marked)
    return Permission.VIEW if method.upper() in SAFE_METHODS else Permission.ACT


def route_path(scope: Any) -> str:
    """The request's path inside this app (without the ``/brygga/admin`` it is mounted at)."""
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    return path[len(root):] if root and path.startswith(root) else path


def is_api(scope: Any) -> bool:
    return route_path(scope).startswith(API_PATH)


def matched_route(routes: list[Any], scope: Any) -> Any | None:
    """The endpoint the router will pick for this request (the middleware runs before it does)."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _origin(url: str) -> tuple[str, str, int] | None:
    """A URL's origin: scheme, host and port (the scheme's default when not given); None when it has none."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def from_this_site(request: Request, source: str, site_origins: list[str]) -> bool:
    """``source`` (an Origin or Referer) is Airflow's configured base URL, in scheme, host and port; without one
    configured, its host and port are the ``Host`` the request was sent to (the scheme the server sees may be a
    proxy's)."""
    origin = _origin(source)
    if origin is None:  # "null" (a sandboxed frame, a file), or not a web address
        return False
    if site_origins:
        return origin in {_origin(site) for site in site_origins}
    host = request.headers.get("host", "").lower()
    return bool(host) and urlsplit(source).netloc.lower() == host


def cross_site(request: Request, *, by_cookie: bool, site_origins: list[str]) -> str | None:
    """Why this request must be refused as cross-site, or None."""
    if request.method.upper() in SAFE_METHODS:
        return None
    source = request.headers.get("origin") or request.headers.get("referer")
    if source and not from_this_site(request, source, site_origins):
        return "a request that changes something must come from this site's own pages, not from another site"
    if not source and by_cookie:
        return "a request that changes something must come from this site's own pages (it named no Origin)"
    return None


async def identify(request: Request, authorizer: Authorizer) -> Caller | None:
    bearer = _bearer(request)
    token = bearer or request.cookies.get(authorizer.cookie_name)
    if not token:
        return None
    user = await authorizer.user_from_token(token)
    return None if user is None else Caller(user, authorizer, by_cookie=bearer is None)


async def authorize(request: Request, authorizer: Authorizer, needed: Permission) -> Caller:
    """The caller of this request, allowed ``needed`` (and view); NotSignedIn or Forbidden."""
    caller = await identify(request, authorizer)
    if caller is None:
        raise NotSignedIn("not signed in to Airflow")
    request.state.caller = caller  # a refusal page still shows who is signed in
    refusal = cross_site(request, by_cookie=caller.by_cookie, site_origins=authorizer.site_origins())
    if refusal:
        raise Forbidden(refusal)
    if not caller.may(needed):
        raise Forbidden(f"{caller.name} may not {_WHAT[needed]}")
    return caller


_WHAT = {Permission.VIEW: "see Brygga's submissions", Permission.ACT: "replay or discard submissions",
         Permission.REVEAL: "see personal data in clear"}
