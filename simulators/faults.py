"""A fault plan: what a simulator does wrong, and when. Shared by the SOAP and the REST simulator bases.

A plan is a list of rules. Each rule matches an *operation* (a SOAP operation name such as ``SaveNewArende``, or
a REST request path; a glob, ``*`` for any) and fires on some of the calls it matches:

- ``nth``: only the nth matching call (1-based, counted from when the rule was set);
- ``times``: that many matching calls (from the ``nth`` on, or from the first);
- ``after`` / ``until``: a time window in seconds from when the rule was set (either end may be left out);
- none of them: every matching call, until the plan is cleared.

The first rule that fires decides what happens to the call (every rule counts the calls it matches, fired or not):

| action | what the client sees |
|---|---|
| ``http_status`` | a bare HTTP ``status`` (default 503), no SOAP, no JSON |
| ``html_200`` | HTTP 200 with an HTML maintenance page |
| ``soap_fault`` | a SOAP 1.1 Fault (HTTP 500) with ``faultcode`` and ``faultstring`` (REST: 500 problem+json) |
| ``reset`` | the connection is closed without an answer, and nothing is done |
| ``delay`` | the answer ``seconds`` later; ``phase`` ``before`` (wait, then work; default) or ``after`` |
| ``lose_reply`` | the operation is carried out, then the connection is closed without an answer |
| ``commit_after`` | nothing at first; ``seconds`` later the operation is carried out, then the connection closes |

Set a plan at start (``python -m brygga_simulators byggr --option 'fault_plan=[{"action": "http_status"}]'``,
``start_simulator("byggr", fault_plan=[...])``), in Python (``sim.app.faults.set([...])``) or over HTTP on the
inspection endpoint: ``POST /_sim/faults`` with a JSON list of rules (or ``{"rules": [...], "append": true}``)
replaces (or extends) the plan, ``DELETE /_sim/faults`` clears it, ``GET /_sim/faults`` shows it with its counters.
``GET /_sim/received`` lists the operations received (name, time, the action applied), newest last, so a harness
can wait for a call to arrive. Neither view holds request content: faultstrings are the harness's own text.
"""

from __future__ import annotations

import fnmatch
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from werkzeug.wrappers import Request, Response

ACTIONS = ("http_status", "html_200", "soap_fault", "reset", "delay", "lose_reply", "commit_after")
# Actions that answer in place of the service: the operation is not carried out.
INSTEAD = ("http_status", "html_200", "soap_fault", "reset")
# Actions that carry the operation out and then close the connection without answering.
DROPPING = ("lose_reply", "commit_after")
RECEIVED_KEPT = 2000

MAINTENANCE_HTML = (
    "<!DOCTYPE html><html lang=\"sv\"><head><title>Underhåll</title></head>"
    "<body><h1>Tjänsten är tillfälligt otillgänglig</h1><p>Planerat underhåll pågår. Försök igen senare.</p>"
    "</body></html>"
)


@dataclass
class FaultRule:
    action: str
    operation: str = "*"
    nth: int | None = None
    times: int | None = None
    after: float | None = None
    until: float | None = None
    status: int = 503
    faultcode: str = "Server"
    faultstring: str = "simulated fault"
    seconds: float = 0.0
    phase: str = "before"
    # Counters, kept by the plan.
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)
    set_at: float = field(default=0.0, compare=False, repr=False)

    _SETTABLE = ("action", "operation", "nth", "times", "after", "until", "status", "faultcode", "faultstring",
                 "seconds", "phase")

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; known: {', '.join(ACTIONS)}")
        if not isinstance(self.operation, str) or not self.operation:
            raise ValueError("a fault rule's operation is a non-empty string (a name, a path or a glob; '*' for any)")
        for name in ("nth", "times"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"a fault rule's {name} is a whole number from 1")
        for name in ("after", "until", "seconds"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or isinstance(value, bool) or value < 0):
                raise ValueError(f"a fault rule's {name} is a number of seconds, 0 or more")
        if not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ValueError("a fault rule's status is an HTTP status, 100-599")
        if self.phase not in ("before", "after"):
            raise ValueError("a delay's phase is 'before' (wait, then work) or 'after' (work, then wait)")
        if self.action in ("delay", "commit_after") and not self.seconds:
            raise ValueError(f"a {self.action} rule needs seconds")

    @classmethod
    def from_json(cls, raw: Any) -> FaultRule:
        if not isinstance(raw, dict):
            raise ValueError("a fault rule is a JSON object")
        unknown = sorted(set(raw) - set(cls._SETTABLE))
        if unknown:
            raise ValueError(f"unknown fault rule key(s): {', '.join(unknown)}")
        if "action" not in raw:
            raise ValueError("a fault rule needs an action")
        return cls(**raw)

    def to_json(self) -> dict[str, Any]:
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name in self._SETTABLE}
        return {**shown, "seen": self.seen, "fired": self.fired}

    def fires(self, now: float) -> bool:
        """Count a matching call and say whether this rule would act on it (``fired`` counts the calls it took)."""
        self.seen += 1
        if self.nth is not None:
            last = self.nth + (self.times or 1) - 1
            if not self.nth <= self.seen <= last:
                return False
        elif self.times is not None and self.seen > self.times:
            return False
        elapsed = now - self.set_at
        if self.after is not None and elapsed < self.after:
            return False
        return self.until is None or elapsed <= self.until


def parse_rules(raw: Any) -> list[FaultRule]:
    """Rules from JSON text, a list of objects, one object, or rules already made."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError as exc:
            raise ValueError(f"a fault plan is JSON: {exc.msg} at position {exc.pos}") from None
    if isinstance(raw, dict) and "rules" in raw:
        raw = raw["rules"]
    if isinstance(raw, FaultRule | dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ValueError("a fault plan is a list of rules")
    return [rule if isinstance(rule, FaultRule) else FaultRule.from_json(rule) for rule in raw]


class FaultPlan:
    """The rules in force, their counters, and what was received. Thread-safe: a threaded server calls it."""

    def __init__(self, rules: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._received: deque[dict[str, Any]] = deque(maxlen=RECEIVED_KEPT)
        self._received_total = 0
        if rules:
            self.set(rules)

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def set(self, rules: Any) -> list[FaultRule]:
        parsed = parse_rules(rules)
        with self._lock:
            self._rules = self._stamped(parsed)
        return parsed

    def add(self, rules: Any) -> list[FaultRule]:
        parsed = parse_rules(rules)
        with self._lock:
            self._rules.extend(self._stamped(parsed))
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def _stamped(self, rules: Iterable[FaultRule]) -> list[FaultRule]:
        now = self.clock()
        stamped = []
        for rule in rules:
            rule.set_at, rule.seen, rule.fired = now, 0, 0
            stamped.append(rule)
        return stamped

    def match(self, operation: str, *aliases: str) -> FaultRule | None:
        """Count a call of ``operation`` (also matched under ``aliases``, e.g. a path relative to the service
        root) against every rule and return the first that fires; record the call as received."""
        now = self.clock()
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                names = (operation, *aliases)
                if any(fnmatch.fnmatchcase(name, rule.operation) for name in names) and rule.fires(now) \
                        and chosen is None:
                    chosen = rule
            if chosen is not None:
                chosen.fired += 1
            self._received_total += 1
            self._received.append({"seq": self._received_total, "operation": operation, "at": time.time(),
                                   "action": chosen.action if chosen else None})
        return chosen

    def received(self, operation: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._received if operation is None or entry["operation"] == operation]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"rules": [rule.to_json() for rule in self._rules], "received": self._received_total}

    def reset(self) -> None:
        with self._lock:
            self._rules = []
            self._received.clear()
            self._received_total = 0

    # --- the inspection endpoint -------------------------------------------------------------------

    def endpoint(self, request: Request) -> Response | None:
        """``/_sim/faults`` (GET, POST, DELETE) and ``/_sim/received`` (GET); None for any other path."""
        if request.path == "/_sim/received":
            operation = request.args.get("operation")
            return _json(self.received(operation))
        if request.path != "/_sim/faults":
            return None
        if request.method == "GET":
            return _json(self.snapshot())
        if request.method == "DELETE":
            self.clear()
            return _json(self.snapshot())
        if request.method in ("POST", "PUT"):
            try:
                body = json.loads(request.get_data(cache=False) or b"[]")
                append = isinstance(body, dict) and bool(body.get("append"))
                (self.add if append else self.set)(body)
            except (ValueError, TypeError) as exc:
                return Response(f"bad fault plan: {exc}", status=400, mimetype="text/plain")
            return _json(self.snapshot())
        response = Response("GET, POST or DELETE", status=405, mimetype="text/plain")
        response.headers["Allow"] = "GET, POST, PUT, DELETE"
        return response


def _json(data: Any) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), mimetype="application/json")


def maintenance_page() -> Response:
    return Response(MAINTENANCE_HTML, status=200, content_type="text/html; charset=utf-8")


def bare_status(status: int) -> Response:
    return Response("simulated outage", status=status, mimetype="text/plain")


def answer_instead(rule: FaultRule, request: Request, fault: Callable[[FaultRule], Response]) -> Response:
    """The answer of a rule that acts in place of the service; ``fault`` renders the protocol's own fault."""
    if rule.action == "http_status":
        return bare_status(rule.status)
    if rule.action == "html_200":
        return maintenance_page()
    if rule.action == "soap_fault":
        return fault(rule)
    return drop_connection(request.environ)  # reset


def drop_connection(environ: dict[str, Any]) -> Response:
    """Close the client's connection without an answer (the client sees it closed, or reset, mid-request).

    The socket is shut down in both directions; the response returned is never delivered (writing it fails,
    which the server takes as a dropped connection).
    """
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            # Linger 0: when the server finally closes the socket, the peer gets a reset rather than a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    response = Response(b"", status=500)
    response.headers["Connection"] = "close"
    return response


def wait(rule: FaultRule, phase: str) -> None:
    """Sleep for a ``delay`` rule in its phase, or a ``commit_after`` rule before the work."""
    if (rule.action == "delay" and rule.phase == phase) or (rule.action == "commit_after" and phase == "before"):
        time.sleep(rule.seconds)


__all__ = [
    "ACTIONS",
    "DROPPING",
    "INSTEAD",
    "MAINTENANCE_HTML",
    "FaultPlan",
    "FaultRule",
    "bare_status",
    "drop_connection",
    "maintenance_page",
    "parse_rules",
    "wait",
]
