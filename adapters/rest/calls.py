"""One call to the REST target, with its answer mapped onto Brygga's outcomes.

- 2xx: the ``Answer`` (a JSON answer read up to ``MAX_ANSWER_BYTES``); an HTML page is a proxy's maintenance page.
- 401: with OAuth2, the cached token is dropped and the call sent once more with a new one; then (and for 403,
  407 at once) ``CredentialsRefused``: the connection is wrong, nothing is quarantined.
- Connection refused, connect timeouts, 5xx, 408, 425, 429: ``TargetUnavailable`` (with the ``Retry-After`` the
  target gave, as ``retry_after`` seconds), retried later.
- A call that may have changed something (``in_doubt``: create, upload, amend) and lost its answer - a read
  timeout, a connection closed after the request went out, a 502/504 from a gateway, or a 2xx whose answer cannot
  be read (HTML, not JSON, over the size cap) - is ``TargetInDoubt``: the next attempt checks before it creates.
- Redirects and other 4xx: ``TargetRejected``, with the problem's ``title`` (redacted) and the fields and rules it
  names; never its ``detail``, which may quote what the resident typed.
Messages name the connection, the operation and the rule.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import requests
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from brygga.errors import CredentialsRefused, TargetInDoubt, TargetRejected, TargetUnavailable
from brygga.faults import Fault, http_status_fault
from brygga.redact import redact
from brygga_adapters.http import GuardedSession
from brygga_adapters.http.answers import read_capped

MAX_ANSWER_BYTES = 4 * 1024 * 1024
# A gateway's "the backend did not answer in time" or "answered garbage": the backend may have done the work.
_GATEWAY_LOST = frozenset({502, 504})
_SCHEMA_NAME = re.compile(r"[A-Za-z0-9_.\[\]/#$:-]{1,100}")
_PROBLEM_LISTS = ("errors", "invalid-params", "invalid_params", "violations")
_WHERE_KEYS = ("field", "pointer", "name", "loc", "propertyPath", "path", "parameter")
_RULE_KEYS = ("rule", "code", "type", "reason")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    in_doubt: bool = False  # the call may have changed something (create, upload, amend)

    def json(self, where: str) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            if self.in_doubt and 200 <= self.status < 300:
                # The target said yes; only its answer is unreadable: the case may well exist now.
                raise TargetInDoubt(f"{where}: HTTP {self.status} but the answer is not JSON "
                                    f"(rule: {_lost_rule(True)})") from None
            raise TargetUnavailable(f"{where}: the answer is not JSON (rule: non-JSON is treated as temporary)") \
                from None


class RestCalls:
    """Sends calls on the connection's guarded session; see the module docstring for the outcomes."""

    def __init__(self, session: GuardedSession, timeout: tuple[float, float], where: str) -> None:
        self.session = session
        self.timeout = timeout
        self.where = where  # "rest <connection id>"

    def call(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        open_body: Callable[[], IO[bytes]] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        in_doubt: bool = False,
        tolerate: frozenset[int] = frozenset(),
    ) -> Answer:
        """One call; ``open_body`` opens a fresh stream for each send (a 401 retry sends the body again).

        Statuses in ``tolerate`` are returned instead of raised (404 for "no such case", 409 on create).
        """
        where = f"{self.where}.{operation}"
        for renewed in (False, True):
            with _opened(open_body) as stream:
                response = self._send(where, method, url, json_body, stream, params, headers, in_doubt)
            with response:
                if response.status_code == 401 and not renewed and self.session.renew_credentials(response):
                    continue  # an expired or revoked OAuth2 token: once more with a new one
                return _judge(where, response, in_doubt, tolerate)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        where: str,
        method: str,
        url: str,
        json_body: Any,
        stream: IO[bytes] | None,
        params: dict[str, str] | None,
        headers: dict[str, str] | None,
        in_doubt: bool,
    ) -> requests.Response:
        lost = TargetInDoubt if in_doubt else TargetUnavailable
        try:
            return self.session.request(
                method, url, json=json_body, data=stream, params=params, headers=headers,
                timeout=self.timeout, allow_redirects=False, stream=True,
            )
        except requests.TooManyRedirects:
            # The session follows none (max_redirects 0), so requests reports any 3xx answer this way.
            raise TargetRejected(f"{where}: answered with a redirect (rule: redirects are not followed)") from None
        except requests.ConnectTimeout:
            raise TargetUnavailable(f"{where}: could not connect in time (rule: transient, retry later)") from None
        except requests.ReadTimeout:
            raise lost(f"{where}: no answer in time (rule: {_lost_rule(in_doubt)})") from None
        except requests.exceptions.SSLError:
            raise TargetUnavailable(f"{where}: TLS handshake or certificate check failed (see ca_bundle)") from None
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise TargetUnavailable(f"{where}: could not connect (rule: transient, retry later)") from None
            raise lost(f"{where}: the connection closed without an answer (rule: {_lost_rule(in_doubt)})") from None
        except requests.RequestException as exc:
            raise lost(f"{where}: HTTP request failed ({type(exc).__name__}; rule: {_lost_rule(in_doubt)})") \
                from None


def _lost_rule(in_doubt: bool) -> str:
    return "in doubt: the next attempt checks before it creates" if in_doubt else "transient, retry later"


@contextmanager
def _opened(open_body: Callable[[], IO[bytes]] | None) -> Iterator[IO[bytes] | None]:
    if open_body is None:
        yield None
        return
    with open_body() as stream:
        yield stream


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, no route, name not found): nothing reached the target."""
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)


def _judge(where: str, response: requests.Response, in_doubt: bool, tolerate: frozenset[int]) -> Answer:
    status = response.status_code
    lost = TargetInDoubt if in_doubt else TargetUnavailable
    if http_status_fault(status) is Fault.TRANSIENT:
        if in_doubt and status in _GATEWAY_LOST:
            raise TargetInDoubt(f"{where}: HTTP {status} from a gateway (rule: {_lost_rule(True)})")
        raise _unavailable(where, status, response.headers)
    if http_status_fault(status) is Fault.INFRASTRUCTURE:
        raise CredentialsRefused(
            f"{where}: HTTP {status}: the target refused the connection's credentials; fix the connection "
            "(nothing is quarantined: the run fails until then)"
        )
    if 300 <= status < 400:
        raise TargetRejected(f"{where}: HTTP {status} redirect (rule: redirects are not followed)")
    accepted = 200 <= status < 300
    # An oversized 2xx to a create (upload, amend) still means it happened; an oversized refusal is a refusal.
    body = _read_capped(response, where, lost, too_big=lost if accepted and in_doubt else TargetRejected)
    if status >= 400 and status not in tolerate:
        raise TargetRejected(f"{where}: {refusal(status, response.headers, body)}")
    if accepted and "html" in response.headers.get("Content-Type", "").lower():
        raise lost(f"{where}: answered HTML, not JSON (rule: likely a maintenance page; {_lost_rule(in_doubt)})")
    return Answer(status=status, headers=response.headers, body=body, in_doubt=in_doubt)


def _unavailable(where: str, status: int, headers: CaseInsensitiveDict[str]) -> TargetUnavailable:
    wait = retry_after(headers.get("Retry-After"))
    asked = f"; the target asks to wait {wait:.0f} s" if wait is not None else ""
    error = TargetUnavailable(f"{where}: HTTP {status} (rule: 5xx, 408, 425 and 429 are temporary{asked})")
    error.retry_after = wait  # type: ignore[attr-defined]
    return error


# A target asking for more than a day is read as a day: the route's max_delay caps the wait anyway.
MAX_RETRY_AFTER_SECONDS = 86400.0


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER_SECONDS)


def _read_capped(response: requests.Response, where: str, lost: type[TargetUnavailable],
                 too_big: type[TargetRejected] | type[TargetUnavailable]) -> bytes:
    rule = _lost_rule(True) if too_big is TargetInDoubt else "answer size"
    return read_capped(
        response, MAX_ANSWER_BYTES,
        too_big=lambda: too_big(f"{where}: the answer is larger than {MAX_ANSWER_BYTES} bytes (rule: {rule})"),
        broken=lambda exc: lost(f"{where}: the answer broke off ({type(exc).__name__})"),
    )


def refusal(status: int, headers: CaseInsensitiveDict[str], body: bytes) -> str:
    """``HTTP 422 <title>; fields: body.title (missing), ...`` from a problem+json answer (RFC 9457).

    The title is the kind of problem and is kept, redacted; ``detail`` is left out (it may quote the request), and
    of each listed error only the names of the field and the rule, when they look like names.
    """
    text = f"HTTP {status}"
    if "json" not in headers.get("Content-Type", "").lower():
        return f"{text} (rule: 4xx is refused)"
    try:
        problem = json.loads(body)
    except ValueError:
        return f"{text} (rule: 4xx is refused)"
    if not isinstance(problem, dict):
        return f"{text} (rule: 4xx is refused)"
    title = problem.get("title")
    if isinstance(title, str) and title.strip():
        text += f" {redact(title, limit=120)}"
    named = _named_problems(problem)
    if named:
        text += f"; fields: {', '.join(named)}"
    return f"{text} (rule: 4xx is refused)"


def _named_problems(problem: dict[str, Any]) -> list[str]:
    listed = next((problem[key] for key in _PROBLEM_LISTS if isinstance(problem.get(key), list)), None)
    if listed is None and isinstance(problem.get("detail"), list):
        listed = problem["detail"]  # FastAPI's own 422 shape: detail: [{loc, msg, type}]
    named: list[str] = []
    for item in (listed or [])[:20]:
        if not isinstance(item, dict):
            continue
        field = _name(next((item[key] for key in _WHERE_KEYS if key in item), None))
        rule = _name(next((item[key] for key in _RULE_KEYS if key in item), None))
        if field:
            named.append(f"{field} ({rule})" if rule else field)
    return named


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = ".".join(str(part) for part in value)
    if isinstance(value, str) and _SCHEMA_NAME.fullmatch(value):
        return value
    return None
