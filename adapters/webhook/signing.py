"""The webhook's HMAC scheme: what a platform sends, and how Brygga checks it.

``X-Brygga-Timestamp`` is the time of sending in unix seconds; ``X-Brygga-Signature`` is
``sha256=<hex of HMAC-SHA256(secret, f"{timestamp}.{route_id}.".encode() + body)>``. The timestamp is inside the
signed bytes, so an old request cannot be given a new time, and a request outside the replay window is refused. The
route id is inside too, so a request captured for one route cannot be posted to another route that shares the
connection (and so the secret). Inside the window a replay to the same route is harmless: the same body is the same
submission (the ledger's (route, sha256) uniqueness).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

TIMESTAMP_HEADER = "X-Brygga-Timestamp"
SIGNATURE_HEADER = "X-Brygga-Signature"
SCHEME = "sha256="

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")


class SignatureRefused(Exception):
    """Why a request is not authenticated. The message names headers and rules, never a value."""


def signature(secret: str | bytes, body: bytes, timestamp: str, route_id: str) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{route_id}.".encode() + body`` under ``secret``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    signed = f"{timestamp}.{route_id}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int | None = None, *, route_id: str) -> dict[str, str]:
    """The headers that authenticate ``body`` for the route ``route_id`` (for clients, tests and the demo);
    ``timestamp`` defaults to now."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: SCHEME + signature(secret, body, stamp, route_id)}


def parse_timestamp(value: str | None, window_seconds: int, now: float | None = None) -> str:
    """The timestamp header as sent, if it is one and within ``window_seconds`` of now (either way)."""
    if value is None:
        raise SignatureRefused(f"the {TIMESTAMP_HEADER} header is missing")
    if not _TIMESTAMP.fullmatch(value):
        raise SignatureRefused(f"the {TIMESTAMP_HEADER} header is not a time in unix seconds")
    skew = abs(int(value) - (time.time() if now is None else now))
    if skew > window_seconds:
        raise SignatureRefused(f"the {TIMESTAMP_HEADER} header is outside the replay window of ±{window_seconds} "
                               "seconds; sign each request when it is sent, with a correct clock")
    return value


def parse_signature(value: str | None) -> str:
    """The hex digest of the signature header, lower case."""
    if value is None:
        raise SignatureRefused(f"the {SIGNATURE_HEADER} header is missing")
    match = _SIGNATURE.fullmatch(value.strip())
    if match is None:
        raise SignatureRefused(f"the {SIGNATURE_HEADER} header is not sha256=<64 hex digits>")
    return match.group(1).lower()


def verify(secret: str | bytes, body: bytes, timestamp: str, route_id: str, digest: str) -> None:
    """Compare in constant time; a mismatch names no digest."""
    if not hmac.compare_digest(signature(secret, body, timestamp, route_id), digest):
        raise SignatureRefused(f"the {SIGNATURE_HEADER} does not match the body, timestamp and route id "
                               '(HMAC-SHA256 with the route\'s shared secret over "<timestamp>.<route id>." + body)')
