"""E-mail alerts over SMTP (``smtplib``), with TLS checked as for every other connection Brygga makes.

The connection holds the server, the login and the password: ``BRYGGA_CONN_ALERTS_SMTP=smtp://user:pw@mail.kumla.se:587``,
or an Airflow Connection (conn_type smtp; host, port, login, password). Its extras:

- ``security``: ``starttls`` (the default; port 587 by default), ``ssl`` (implicit TLS, the default on port 465 and
  for ``smtps://``; port 465 by default) or ``none`` (plain SMTP on port 25, for a relay on the same host only;
  refused with a login, which would go in clear text);
- ``ca_bundle``: a PEM file of the CA to trust instead of the system's;
- ``timeout``: seconds for the connection and each reply (default 30);
- ``from_email``: the sender, when the notifier's config gives none (Airflow's SMTP connections carry it there).

The notifier's config (in the routes file) names the addresses: ``to`` (a list) and ``from``; ``subject_prefix``
goes before each subject. Certificate checks cannot be switched off.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any, ClassVar

from brygga.alerts.alert import Alert
from brygga.alerts.notifiers import NotifierFailed
from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga.redact import redact
from brygga_adapters.http.extras import refuse_tls_off, seconds

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_TIMEOUT = 30.0
# Headers unfolded up to the RFC 5322 limit: a long subject stays one line rather than folding before its first word.
_POLICY = SMTP.clone(max_line_length=998)
_ADDRESS = r"^[^@\s<>,;]+@[^@\s<>,;]+$"


class SmtpNotifier:
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["to"],
        "properties": {
            "to": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": _ADDRESS},
                   "description": "Who gets the alerts: a team's mailbox rather than a person's."},
            "from": {"type": "string", "pattern": _ADDRESS,
                     "description": "The sender; else the connection's extra from_email."},
            "subject_prefix": {"type": "string", "default": "", "maxLength": 50,
                               "description": "Before each subject, e.g. [drift] for a mail rule."},
        },
    }
    needs_connection: ClassVar[bool] = True

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("the smtp notifier needs a connection: the mail server and its credentials")
        where = f"connection {connection.conn_id!r}"
        self.connection = connection
        self.recipients: list[str] = list(config["to"])
        sender = config.get("from") or connection.extra.get("from_email")
        if not sender:
            raise ConfigError(f"smtp notifier on {where}: give config.from, or the extra from_email")
        self.sender: str = sender
        self.prefix: str = config.get("subject_prefix", "")
        self.security = _security(connection)
        if self.security == "none" and (connection.login or connection.password):
            raise ConfigError(f"{where}: extra security=none would send the login in clear text; use starttls or "
                              "ssl (rule: tls-for-credentials)")
        self.port = connection.port or DEFAULT_PORTS[self.security]
        self.timeout = seconds(connection, "timeout", DEFAULT_TIMEOUT)
        self.context = _tls_context(connection) if self.security != "none" else None

    def message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage(policy=_POLICY)
        message["Subject"] = f"{self.prefix} {alert.subject}".strip()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a machine
        message.set_content(alert.text + "\n", cte="quoted-printable")  # 7-bit safe for any relay
        return message

    def send(self, alert: Alert) -> None:
        message = self.message(alert)
        where = f"smtp notifier on connection {self.connection.conn_id!r}"
        try:
            with self._open() as client:
                if self.connection.login:
                    client.login(self.connection.login, self.connection.password or "")
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifierFailed(f"{where}: the server refused the login (SMTP {exc.smtp_code})") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise NotifierFailed(f"{where}: {type(exc).__name__}: {redact(str(exc), 200)}") from None

    def _open(self) -> smtplib.SMTP:
        host = self.connection.host
        if self.security == "ssl":
            return smtplib.SMTP_SSL(host, self.port, timeout=self.timeout, context=self.context)
        client = smtplib.SMTP(host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                client.starttls(context=self.context)
            except BaseException:
                client.close()
                raise
        return client


def _security(connection: Connection) -> str:
    given = (connection.extra.get("security") or "").strip().lower()
    if given:
        if given not in SECURITY:
            raise ConfigError(f"connection {connection.conn_id!r}: extra 'security' must be one of "
                              f"{', '.join(SECURITY)}")
        return given
    return "ssl" if connection.port == 465 or connection.scheme == "smtps" else "starttls"


def _tls_context(connection: Connection) -> ssl.SSLContext:
    # The same refusal as for HTTP connections: no extra switches certificate checks off.
    refuse_tls_off(connection)
    ca_bundle = (connection.extra.get("ca_bundle") or "").strip() or None
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (FileNotFoundError, ssl.SSLError):
        raise ConfigError(f"connection {connection.conn_id!r}: extra 'ca_bundle' is not a readable PEM file") from None
