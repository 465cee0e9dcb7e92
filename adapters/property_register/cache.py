"""In-process caches: one requests session per connection, and the register's answers for a while.

Both live at module level because the pipeline may build a new adapter for every batch; a session (and its
TLS connection pool) and the answers should outlive that. Answers are keyed by the register's request shape and
the normalised designation; failures are never cached.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import requests

from brygga.connections import Connection
from brygga.plugins import PropertyRecord

MAX_ANSWERS = 10_000


class AnswerCache:
    """A bounded time-to-live cache; the oldest entries go first when it is full."""

    def __init__(self, max_entries: int = MAX_ANSWERS, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, PropertyRecord | None]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, PropertyRecord | None]:
        """(found, record); a cached "no such unit" is (True, None)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            expires, record = entry
            if expires <= self._clock():
                del self._entries[key]
                return False, None
            return True, record

    def put(self, key: Hashable, record: PropertyRecord | None, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + seconds, record)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


answers = AnswerCache()
_sessions: dict[tuple[Any, ...], requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(connection: Connection, build: Callable[[Connection], requests.Session]) -> requests.Session:
    """The cached session for ``connection``, built with ``build`` on first use."""
    key = connection.cache_key()
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = build(connection)
        return session


def clear_caches() -> None:
    """Forget every session and answer (tests, or after a connection's secret changed)."""
    answers.clear()
    with _sessions_lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()
