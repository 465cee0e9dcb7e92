"""One guarded requests session per connection, process-wide: the pipeline may build a new adapter per batch, and
the session's TLS connection pool (and its OAuth2 credentials) should outlive that.

Keyed by ``cache_slot`` (the connection id and a sha256 of its cache key, never the secret itself): a rotated
secret gets a new session, and the connection's older sessions are closed and dropped then."""

from __future__ import annotations

import threading

from brygga.connections import Connection
from brygga_adapters.http import GuardedSession, build_session, cache_slot, clear_tokens

_sessions: dict[tuple[str, str], GuardedSession] = {}
_lock = threading.Lock()


def session_for(connection: Connection) -> GuardedSession:
    """The connection's session, built on first use; a new one (a rotated secret) replaces the connection's old."""
    key = cache_slot(connection)
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = build_session(connection)
            for stale in [other for other in _sessions if other[0] == key[0]]:
                _sessions.pop(stale).close()
            _sessions[key] = session
        return session


def cached_sessions(conn_id: str) -> int:
    """How many sessions the process keeps for ``conn_id`` (one, after any number of rotations)."""
    with _lock:
        return sum(1 for key in _sessions if key[0] == conn_id)


def clear_sessions() -> None:
    """Forget every session and OAuth2 token (tests, or after a connection's secret changed)."""
    with _lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()
    clear_tokens()
