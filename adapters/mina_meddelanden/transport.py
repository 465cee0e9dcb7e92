"""One SOAP POST over the connection's session (mutual TLS), with failures mapped onto Brygga's outcomes.

Whether the request went out decides between "certainly not delivered" and "may have been delivered". The body is
handed to the connection as a stream that notes when its last byte has been written to the socket; until then the
service cannot have the request, whatever broke.

- The service refused the organisation's certificate in the TLS handshake (a TLS alert such as "certificate
  required", "bad certificate" or "unknown ca"), or the connection has no client certificate and the handshake
  failed: ``CredentialsRefused``, the connection's problem.
- Anything that broke before the whole request was written (connection refused, a connect or TLS handshake that
  timed out or was reset, a TLS failure of our own check of the server, a connection reset while sending):
  ``TargetUnavailable``; nothing reached the service.
- The whole request was written and no answer came (read timeout, connection closed or reset after sending, an
  answer broken off): for deliverSecure ``TargetInDoubt`` (the message may have been delivered), for isReachable
  ``TargetUnavailable`` (it changes nothing).
- A redirect: ``TargetRejected`` (not followed).
The answer's body is read with a size cap; replies.py reads it. Messages name the call and the rule, never data.
"""

from __future__ import annotations

import io

import requests

from brygga.errors import CredentialsRefused, TargetInDoubt, TargetRejected, TargetUnavailable
from brygga_adapters.http.answers import read_capped

MAX_REPLY_BYTES = 5 * 1024 * 1024
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}  # soapAction "" in both WSDLs

# TLS alerts a server sends when it does not take the client certificate (OpenSSL's wording, lower-cased).
_REFUSED_CERTIFICATE = (
    "alert certificate required",
    "alert bad certificate",
    "alert unknown ca",
    "alert certificate unknown",
    "alert certificate expired",
    "alert certificate revoked",
    "alert unsupported certificate",
    "alert access denied",
)


def _certificate_refused(exc: BaseException, has_client_certificate: bool) -> bool:
    seen: BaseException | None = exc
    texts = []
    while seen is not None and len(texts) < 10:  # the chain: requests -> urllib3 -> ssl
        texts.append(str(seen).lower())
        seen = seen.__cause__ or seen.__context__
    if any("certificate verify failed" in text for text in texts):
        return False  # our own check of the server's certificate failed: not the client certificate
    if not has_client_certificate and isinstance(exc, requests.exceptions.SSLError):
        return True  # a service that takes only mutual TLS, and nothing to show it
    return any(alert in text for text in texts for alert in _REFUSED_CERTIFICATE)


class _Body(io.BytesIO):
    """The request body, noting when the connection has written all of it: the connection reads it block by block
    and writes each block before it reads the next, so a read at the end comes after the last write."""

    written = False

    def read(self, size: int | None = -1) -> bytes:
        block = super().read(size)
        if not block:
            self.written = True
        return block


def _not_sent(exc: requests.RequestException, where: str) -> TargetUnavailable:
    """The request broke off before it was written whole: the service cannot have it."""
    if isinstance(exc, requests.ConnectTimeout):
        reason = "timed out while connecting"
    elif isinstance(exc, requests.Timeout):
        reason = "timed out before the request was sent (in the TLS handshake)"
    elif isinstance(exc, requests.exceptions.SSLError):
        reason = "TLS failed (check the service's certificate and the ca_bundle extra)"
    elif isinstance(exc, requests.ConnectionError):
        reason = "could not connect, or the connection broke before the request was sent"
    else:
        reason = f"HTTP request failed ({type(exc).__name__})"
    return TargetUnavailable(f"{where}: {reason}; nothing was delivered (rule: transient, retry later)")


def post(session: requests.Session, url: str, body: bytes, timeout: tuple[float, float], where: str, *,
         changes_state: bool) -> tuple[int, bytes]:
    """POST ``body``; the HTTP status and the answer's bytes. ``changes_state``: a lost answer is in doubt."""
    lost = (TargetInDoubt(f"{where}: no answer came after the request was sent; the message may have been "
                          "delivered (rule: in doubt)") if changes_state
            else TargetUnavailable(f"{where}: no answer came (rule: transient, retry later)"))
    stream = _Body(body)  # requests sends it with its Content-Length, as it would the bytes
    try:
        response = session.post(url, data=stream, headers=HEADERS, timeout=timeout, allow_redirects=False,
                                stream=True)
    except requests.RequestException as exc:
        if _certificate_refused(exc, session.cert is not None):
            given = "refused the organisation's client certificate" if session.cert is not None else \
                "requires a client certificate and the connection has none"
            raise CredentialsRefused(f"{where}: TLS handshake refused: the service {given}; fix the connection's "
                                     "extras cert_file and key_file (nothing is quarantined: the run fails until "
                                     "then)") from None
        if not stream.written:
            raise _not_sent(exc, where) from None
        raise lost from None
    with response:
        status = response.status_code
        if 300 <= status < 400:
            raise TargetRejected(f"{where}: HTTP {status} redirect (rule: redirects are not followed)")
        content = read_capped(
            response, MAX_REPLY_BYTES,
            too_big=lambda: TargetRejected(f"{where}: the answer is over {MAX_REPLY_BYTES} bytes (rule: answer "
                                           "size)"),
            broken=lambda _exc: lost,
        )
    return status, content
