"""One SOAP POST over the connection's session (mutual TLS), with failures mapped onto Brygga's outcomes.

- The service refused the organisation's certificate in the TLS handshake (a TLS alert such as "certificate
  required", "bad certificate" or "unknown ca"), or the connection has no client certificate and the handshake
  failed: ``CredentialsRefused``, the connection's problem. (Under TLS 1.3 a refused certificate can also surface
  as a bare EOF, when the server's alert is lost to the connection's reset; with a certificate configured that
  stays ``TargetUnavailable``, as any broken handshake.)
- Could not connect, a TLS failure of our own check of the server, a connect timeout: ``TargetUnavailable``.
- The request went out and no answer came (read timeout, connection broken after sending): for deliverSecure
  ``TargetInDoubt`` (the message may have been delivered), for isReachable ``TargetUnavailable``.
- A redirect: ``TargetRejected`` (not followed).
The answer's body is read with a size cap; replies.py reads it. Messages name the call and the rule, never data.
"""

from __future__ import annotations

import requests
from urllib3.exceptions import ProtocolError

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


def _lost_after_sending(exc: requests.ConnectionError) -> bool:
    # urllib3 reports a connection that broke after the request was written as a ProtocolError
    # ("Connection aborted."); one that could not be opened as a MaxRetryError around NewConnectionError.
    return any(isinstance(arg, ProtocolError) for arg in exc.args)


def post(session: requests.Session, url: str, body: bytes, timeout: tuple[float, float], where: str, *,
         changes_state: bool) -> tuple[int, bytes]:
    """POST ``body``; the HTTP status and the answer's bytes. ``changes_state``: a lost answer is in doubt."""
    lost = (TargetInDoubt(f"{where}: no answer came after the request was sent; the message may have been "
                          "delivered (rule: in doubt)") if changes_state
            else TargetUnavailable(f"{where}: no answer came (rule: transient, retry later)"))
    try:
        response = session.post(url, data=body, headers=HEADERS, timeout=timeout, allow_redirects=False,
                                stream=True)
    except requests.RequestException as exc:
        if _certificate_refused(exc, session.cert is not None):
            given = "refused the organisation's client certificate" if session.cert is not None else \
                "requires a client certificate and the connection has none"
            raise CredentialsRefused(f"{where}: TLS handshake refused: the service {given}; fix the connection's "
                                     "extras cert_file and key_file (nothing is quarantined: the run fails until "
                                     "then)") from None
        if isinstance(exc, requests.ConnectTimeout):
            raise TargetUnavailable(f"{where}: timed out while connecting (rule: transient)") from None
        if isinstance(exc, requests.Timeout):
            raise lost from None
        if isinstance(exc, requests.exceptions.SSLError):
            raise TargetUnavailable(f"{where}: TLS failed (check the service's certificate and the ca_bundle "
                                    "extra)") from None
        if isinstance(exc, requests.ConnectionError):
            if _lost_after_sending(exc):
                raise lost from None
            raise TargetUnavailable(f"{where}: could not connect (rule: transient)") from None
        raise TargetUnavailable(f"{where}: HTTP request failed ({type(exc).__name__})") from None
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
