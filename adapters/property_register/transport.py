"""One GET against the register, with the answer mapped onto Brygga's outcomes.

- 2xx with JSON: the parsed document; 204, 404: ``NOT_FOUND`` ("no such unit").
- Connection errors, timeouts, 5xx, 408/425/429, an HTML page or anything that is not JSON (a maintenance page
  behind a proxy answers 200 with HTML): ``TargetUnavailable``, retried later.
- Redirects (often a login page), other 4xx, an oversized answer: ``TargetRejected``; the same request would fail
  again until someone changes the config or the connection.
Messages name the connection, the operation and the rule, never the designation or anything from the answer.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import requests

from brygga.errors import CredentialsRefused, TargetRejected, TargetUnavailable
from brygga.faults import Fault, http_status_fault
from brygga_adapters.http.answers import read_capped

MAX_ANSWER_BYTES = 2 * 1024 * 1024
READ_OFF_BYTES = 64 * 1024  # "no such unit" answers are a few hundred bytes
NOT_FOUND = object()


def get_json(
    session: requests.Session, url: str, params: dict[str, str], timeout: tuple[float, float], where: str
) -> Any:
    """The parsed JSON answer, or ``NOT_FOUND``."""
    try:
        response = session.get(url, params=params, timeout=timeout, allow_redirects=False, stream=True)
    except requests.Timeout:
        raise TargetUnavailable(f"{where}: timed out (rule: transient, retry later)") from None
    except requests.exceptions.SSLError:
        raise TargetUnavailable(f"{where}: TLS handshake or certificate check failed (see ca_bundle)") from None
    except requests.ConnectionError:
        raise TargetUnavailable(f"{where}: could not connect (rule: transient, retry later)") from None
    except requests.RequestException as exc:
        raise TargetUnavailable(f"{where}: HTTP request failed ({type(exc).__name__})") from None
    with response:
        status = response.status_code
        if status in (204, 404):
            _read_off(response)
            return NOT_FOUND
        if http_status_fault(status) is Fault.TRANSIENT:
            raise TargetUnavailable(f"{where}: HTTP {status} (rule: 5xx, 408, 425 and 429 are temporary)")
        if 300 <= status < 400:
            raise TargetRejected(f"{where}: HTTP {status} redirect (rule: redirects are not followed)")
        if http_status_fault(status) is Fault.INFRASTRUCTURE:
            raise CredentialsRefused(f"{where}: HTTP {status}: the register refused the connection's credentials; "
                                     "fix the connection (nothing is quarantined: the run fails until then)")
        if status >= 400:
            raise TargetRejected(f"{where}: HTTP {status} (rule: 4xx other than 404 is refused)")
        content_type = response.headers.get("Content-Type", "").lower()
        if "html" in content_type:
            raise TargetUnavailable(f"{where}: answered HTML, not JSON (rule: likely a maintenance page, retry later)")
        body = _read_capped(response, where)
    try:
        return json.loads(body)
    except ValueError:
        raise TargetUnavailable(f"{where}: the answer is not JSON (rule: non-JSON is treated as temporary)") from None


def _read_off(response: requests.Response) -> None:
    """Read a short answer's body off, so its connection goes back to the pool (closing a response with its body
    unread closes the connection). A body over the cap, or broken, is left: the connection is closed then."""
    with contextlib.suppress(ReadOffGivenUp):
        read_capped(response, READ_OFF_BYTES, too_big=ReadOffGivenUp, broken=lambda _exc: ReadOffGivenUp())


class ReadOffGivenUp(Exception):
    """A body not worth reading off to keep its connection."""


def _read_capped(response: requests.Response, where: str) -> bytes:
    return read_capped(
        response, MAX_ANSWER_BYTES,
        too_big=lambda: TargetRejected(
            f"{where}: the answer is larger than {MAX_ANSWER_BYTES} bytes (rule: answer size)"),
        broken=lambda exc: TargetUnavailable(f"{where}: the answer broke off ({type(exc).__name__})"),
    )
