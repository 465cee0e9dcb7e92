"""One guarded requests session per connection, process-wide: the pipeline may build a new adapter per batch, and
the session's TLS connection pool (and its OAuth2 credentials) should outlive that."""

from __future__ import annotations

import threading

from brygga.connections import Connection
from brygga_adapters.http import GuardedSession, build_session
from brygga_adapters.http.session import clear_tokens

_sessions: dict[tuple[object, ...], GuardedSession] = {}
_lock = threading.Lock()


def session_for(connection: Connection) -> GuardedSession:
    """The connection's session, built on first use; keyed by ``cache_key()``, so a rotated secret gets a new one."""
    key = connection.cache_key()
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = build_session(connection)
        return session


def clear_sessions() -> None:
    """Forget every session and OAuth2 token (tests, or after a connection's secret changed)."""
    with _lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()
    clear_tokens()
