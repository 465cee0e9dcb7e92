"""Who may use the admin view: Airflow's login and auth manager decide, on every request.

Airflow does not protect a plugin's endpoints, so the app checks each request itself (``check_access``, a
dependency of the whole app, so no endpoint can be added without it). The caller is identified by Airflow's own
JWT: the ``Authorization: Bearer`` header (scripts) or the cookie Airflow's login sets (the browser). What they may
do is asked of the auth manager as custom views, one resource per permission. Airflow's SimpleAuthManager grants
every custom view to every role, so for it Brygga adds a role floor per permission.

A state-changing request (replay, discard, reveal) that came with the cookie must also come from this site: its
``Origin`` (or ``Referer``) names this host. The cookie is SameSite=Lax already; this is the check that does not
depend on the browser. A bearer token is never sent by a browser on its own, so a script's request passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.routing import APIRoute

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The JSON endpoints, under the app's prefix: refused with 401/403, never redirected to a login page.
API_PATH = "/api/"


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


@dataclass(frozen=True)
class Caller:
    """The signed-in user of this request, and what they may do."""

    name: str
    permissions: frozenset[Permission]
    by_bearer: bool  # the token came in the Authorization header, not the cookie

    def may(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions


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


class NotSignedIn(Exception):
    """No valid Airflow token: a page sends the browser to Airflow's login, an API call gets 401."""


class Forbidden(Exception):
    """Signed in, but not allowed (or a cross-site request): 403."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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


def is_api(route: Any) -> bool:
    return isinstance(route, APIRoute) and route.path.startswith(API_PATH)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _hosts(request: Request, extra_origins: Iterable[str]) -> set[str]:
    hosts = {request.headers.get("host", "").lower()}
    hosts.update(urlsplit(origin).netloc.lower() for origin in extra_origins if origin)
    return hosts - {""}


def from_this_site(request: Request, extra_origins: Iterable[str] = ()) -> bool:
    """The request's Origin (or, without one, its Referer) is this host (or Airflow's configured base URL)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc.lower() in _hosts(request, extra_origins)


async def identify(request: Request, authorizer: Authorizer) -> Caller | None:
    bearer = _bearer(request)
    token = bearer or request.cookies.get(authorizer.cookie_name)
    if not token:
        return None
    user = await authorizer.user_from_token(token)
    if user is None:
        return None
    allowed = frozenset(p for p in Permission if authorizer.allows(user, p))
    return Caller(name=authorizer.user_name(user), permissions=allowed, by_bearer=bearer is not None)


async def authorize(request: Request, authorizer: Authorizer) -> Caller:
    """The caller of this request, allowed to do what the matched endpoint does; NotSignedIn or Forbidden."""
    caller = await identify(request, authorizer)
    if caller is None:
        raise NotSignedIn
    request.state.caller = caller  # a refusal page still shows who is signed in
    needed = required_permission(request.scope.get("route"), request.method)
    if not caller.may(needed):
        raise Forbidden(f"{caller.name} may not {_WHAT[needed]}")
    if request.method.upper() not in SAFE_METHODS and not caller.by_bearer \
            and not from_this_site(request, authorizer.site_origins()):
        raise Forbidden("a request that changes something must come from this site's own pages")
    return caller


_WHAT = {Permission.VIEW: "see Brygga's submissions", Permission.ACT: "replay or discard submissions",
         Permission.REVEAL: "see personal data in clear"}
