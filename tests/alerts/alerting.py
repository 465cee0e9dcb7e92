"""Helpers of the alert tests: a real SMTP server (aiosmtpd), a real HTTP server for webhooks, and runs of the bundled
route as the DAG does them (every step, then the check that sends the alerts)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from routing import RouteRun, local

from brygga.pipeline import check
from brygga.pipeline.health import RunHealth
from brygga_simulators.mina_meddelanden.certificates import SimulatorPki

__all__ = ["Hook", "MailServer", "RouteRun", "alert_to", "free_port", "local", "ticker"]

SMTP_LOGIN, SMTP_PASSWORD = "brygga", "s3cret-for-the-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Mailbox:
    """aiosmtpd handler: keeps every message it accepts, and the login each came with."""

    def __init__(self) -> None:
        self.received: list[tuple[EmailMessage, str | None]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        login = session.authenticated and session.auth_data.login.decode()
        self.received.append((message, login or None))  # type: ignore[arg-type]
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_LOGIN.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@dataclass
class MailServer:
    """A real SMTP server on 127.0.0.1: plain, STARTTLS (with a login required) or implicit TLS."""

    port: int
    security: str = "none"
    pki: SimulatorPki | None = None
    mailbox: _Mailbox = field(default_factory=_Mailbox)
    _controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for message, _ in self.mailbox.received]

    @property
    def logins(self) -> list[str | None]:
        return [login for _, login in self.mailbox.received]

    def start(self) -> MailServer:
        options: dict[str, Any] = {}
        if self.security != "none":
            assert self.pki is not None
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.pki.server_cert, self.pki.server_key)
            if self.security == "starttls":
                options = {"tls_context": context, "require_starttls": True, "auth_require_tls": True,
                           "authenticator": _authenticate, "auth_required": True}
            else:
                # aiosmtpd counts only STARTTLS as TLS for AUTH; under implicit TLS the whole session is TLS.
                options = {"ssl_context": context, "authenticator": _authenticate, "auth_required": True,
                           "auth_require_tls": False}
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **options)
        if self.security == "ssl":
            # The controller checks it is up by connecting with the server's own context, which cannot be a
            # client's: it connects as a client trusting the test CA instead, and reads the greeting.
            self._controller._trigger_server = self._greeting  # type: ignore[method-assign]
        self._controller.start()
        return self

    def _greeting(self) -> None:
        assert self.pki is not None
        client = ssl.create_default_context(cafile=self.pki.ca_file)
        with socket.create_connection(("127.0.0.1", self.port), 1.0) as raw, \
                client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.recv(1024)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def uri(self, **extras: str) -> str:
        credentials = f"{SMTP_LOGIN}:{SMTP_PASSWORD}@" if self.security != "none" else ""
        query = "&".join(f"{k}={v}" for k, v in {"security": self.security, **extras}.items())
        return f"smtp://{credentials}127.0.0.1:{self.port}?{query}"


@dataclass
class Hook:
    """A real HTTP server that takes webhook posts and answers ``status``."""

    server: ThreadingHTTPServer
    posts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def uri(self, path: str = "/webhookb2/team-secret", **extras: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"allow_http": "true", **extras}.items())
        return f"http://127.0.0.1:{self.port}{path}?{query}"

    @property
    def bodies(self) -> list[Any]:
        return [post["json"] for post in self.posts]


def alert_to(route: RouteRun, *notifiers: str, reminder: str = "24h") -> None:
    """The routes file's alerts go to ``notifiers`` (YAML flow mappings) instead of the log."""
    route.variant("    - {adapter: log}\n", "".join(f"    - {n}\n" for n in notifiers))
    route.variant("  reminder_after: 24h ", f"  reminder_after: {reminder} ")


def ticker(route: RouteRun) -> Callable[[], RunHealth]:
    """One scheduled run as the DAG does it: every step, then the check (which sends the alerts)."""

    def tick() -> RunHealth:
        batch = route.run()
        return check(route.context(), batch)

    return tick
