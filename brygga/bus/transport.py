"""Where the bus is, and connections to it (kombu).

``BRYGGA_BUS_URL`` names a RabbitMQ (``amqp://user:password@host:5672/vhost``); without it the bus is embedded in
the ledger's own database (``sqla+<database_url>``): no server to run, and the events sit beside the ledger that
wrote them, in one backup. docs/events.md ("Why this transport") says why this one and not the file-system one.

``amqps://`` is TLS with the broker's certificate checked: against the CA file the URL's ``ca_bundle`` parameter
names (a connection's extra of that name), else the system's CAs, and its name against the URL's host. kombu on its
own hands py-amqp ``ssl=True`` for amqps://, which checks neither the name nor sends it (SNI).

kombu's SQLAlchemy transport is used with three changes (``_EmbeddedChannel``), because as it ships it
marks a message invisible when it is taken and never touches it again:

- an acknowledged message is deleted (kombu keeps every message ever sent, so the table only grows);
- an unacknowledged one is made visible again where it was (kombu inserts a copy at the end, so messages given
  back come back last, in reverse order);
- one taken by a consumer that died without giving it back (killed, power lost) is visible again after
  ``visibility_timeout`` seconds, as on SQS or kombu's Redis transport (kombu loses it).

Taking a message is one atomic statement (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: ``BEGIN IMMEDIATE``), so
consumers in several processes never take the same message at once.
"""

from __future__ import annotations

import os
import re
import ssl
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from kombu import Connection as KombuConnection
from kombu.exceptions import OperationalError as KombuOperationalError
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.json import loads
from sqlalchemy import create_engine, delete, event, or_, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, SADeprecationWarning
from sqlalchemy.exc import OperationalError as SqlOperationalError
from sqlalchemy.orm import configure_mappers, sessionmaker

from brygga.bus import BusUnavailable
from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga.redact import redact
from brygga.settings import Settings

ENV = "BRYGGA_BUS_URL"
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")
TLS_SCHEME = "amqps"
# The URL parameter (and the connection extra) naming the PEM file of the CA that issued an amqps:// broker's
# certificate; Brygga's own, taken off the URL before kombu sees it.
CA_BUNDLE = "ca_bundle"
EMBEDDED_PREFIXES = ("sqla+", "sqlalchemy+")
# kombu's name for the embedded transport below; URLs keep saying sqla+, connect() swaps the prefix.
EMBEDDED_ALIAS = "brygga-sqla"
DEFAULT_VISIBILITY_TIMEOUT = 900.0  # seconds a taken, unacknowledged message stays hidden from other consumers
SQLITE_BUSY_TIMEOUT_MS = 30000


def bus_url(settings: Settings, env: dict[str, str] | None = None) -> str:
    """``BRYGGA_BUS_URL`` when set, else the embedded bus in the ledger's database."""
    given = (os.environ if env is None else env).get(ENV, "").strip()
    return given or f"sqla+{settings.database_url}"


def is_amqp(url: str) -> bool:
    return url.split("://", 1)[0].lower() in AMQP_SCHEMES


def is_embedded(url: str) -> bool:
    return url.lower().startswith(EMBEDDED_PREFIXES)


_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:@/]*):[^@]*@")


def shown_url(url: str) -> str:
    """The URL as messages show it: the password replaced by ``***``."""
    return _USERINFO.sub(r"\g<head>:***@", url, count=1)


def amqp_url(connection: Connection) -> str:
    """A Brygga connection (``BRYGGA_CONN_<ID>=amqp://user:password@host:5672/vhost``) as kombu's URL."""
    if connection.scheme not in ("amqp", "amqps"):
        raise ConfigError(f"connection {connection.conn_id!r}: the bus needs an amqp:// or amqps:// URI "
                          f"(BRYGGA_CONN_{connection.conn_id.upper().replace('-', '_')}=amqp://user:password@host:5672/"
                          f"vhost), not {connection.scheme}://")
    userinfo = ""
    if connection.login:
        userinfo = quote(connection.login, safe="")
        if connection.password:
            userinfo += ":" + quote(connection.password, safe="")
        userinfo += "@"
    host = f"[{connection.host}]" if ":" in connection.host else connection.host
    port = f":{connection.port}" if connection.port else ""
    # The connection's path is the vhost, already %-encoded ("" for RabbitMQ's default vhost "/").
    vhost = connection.path.removeprefix("/") or quote("/", safe="")
    url = f"{connection.scheme}://{userinfo}{host}{port}/{vhost}"
    ca_bundle = (connection.extra.get(CA_BUNDLE) or "").strip()
    if ca_bundle:
        if connection.scheme != TLS_SCHEME:
            raise ConfigError(f"connection {connection.conn_id!r}: extra {CA_BUNDLE!r} is for amqps:// (TLS); this "
                              f"connection is {connection.scheme}://")
        url += "?" + urlencode({CA_BUNDLE: ca_bundle}, safe="/")
    return url


def _take_ca_bundle(url: str) -> tuple[str, str | None]:
    """The URL without its ``ca_bundle`` parameter (kombu would take it for a connection argument), and the file."""
    parts = urlsplit(url)
    if not parts.query:
        return url, None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    given = [value.strip() for key, value in pairs if key == CA_BUNDLE]
    if not given:
        return url, None
    rest = urlencode([(key, value) for key, value in pairs if key != CA_BUNDLE], safe="/")
    return urlunsplit(parts._replace(query=rest)), given[-1] or None


def tls_options(url: str) -> dict[str, Any] | None:
    """What py-amqp gets as ``ssl`` for an ``amqps://`` URL, None for plain AMQP.

    The broker's certificate must chain to the ``ca_bundle`` the URL names (else to the system's CAs) and be issued
    for the URL's host, which is also sent as SNI. The host is given explicitly: kombu connects to ``localhost`` as
    127.0.0.1, and would check the certificate against that if left to fill it in.
    """
    stripped, ca_bundle = _take_ca_bundle(url)
    parts = urlsplit(stripped)
    if parts.scheme.lower() != TLS_SCHEME:
        if ca_bundle is not None:
            raise ConfigError(f"the message bus at {shown_url(url)}: {CA_BUNDLE} is for amqps:// (TLS) only")
        return None
    if ca_bundle is not None and not Path(ca_bundle).expanduser().is_file():
        raise ConfigError(f"the message bus at {shown_url(url)}: {CA_BUNDLE} does not name a readable file (rule: a "
                          "PEM file of the CA that issued the broker's certificate)")
    return {"cert_reqs": ssl.CERT_REQUIRED,
            "ca_certs": str(Path(ca_bundle).expanduser()) if ca_bundle else None,
            "server_hostname": parts.hostname or "localhost"}


def connect(url: str, *, confirm: bool = False, connect_timeout: float = 5.0,
            visibility_timeout: float | None = None) -> KombuConnection:
    """A kombu connection to the bus (not yet opened). ``confirm``: publisher confirms on AMQP, so ``publish``
    returns only once the broker has the message (the embedded bus has it once its transaction commits).
    ``amqps://``: the broker's certificate and name are checked (``tls_options``)."""
    options: dict[str, Any] = {}
    tls: dict[str, Any] | None = None
    if is_embedded(url):
        url = f"{EMBEDDED_ALIAS}+{url.split('+', 1)[1]}"
        if visibility_timeout is not None:
            options["visibility_timeout"] = visibility_timeout
    elif is_amqp(url):
        tls = tls_options(url)
        url = _take_ca_bundle(url)[0]
        if confirm:
            options["confirm_publish"] = True
    return KombuConnection(url, ssl=tls or False, connect_timeout=connect_timeout, transport_options=options)


def failures(connection: KombuConnection) -> tuple[type[BaseException], ...]:
    """What a broker that is down, refuses us or refuses a message raises."""
    from amqp.exceptions import MessageNacked

    return (*connection.connection_errors, *connection.channel_errors, KombuOperationalError, MessageNacked,
            OSError)


def unavailable(url: str, exc: BaseException, what: str = "cannot be reached") -> BusUnavailable:
    """``BusUnavailable`` naming the bus (no password) and the library's reason, masked (brygga.redact)."""
    text = str(exc).strip()
    reason = redact(text.splitlines()[0], 200) if text else ""
    return BusUnavailable(f"the message bus at {shown_url(url)} {what}: {type(exc).__name__}"
                          + (f": {reason}" if reason else ""))


# -- the embedded transport ------------------------------------------------------------------------------------

def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # kombu's column is a naive DateTime


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # As the ledger's own engine: several processes share the file (brygga/ledger/store.py).
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class _EmbeddedChannel(kombu_sqla.Channel):
    """kombu's SQLAlchemy channel, with acknowledgements that delete, in-place restores and a visibility timeout."""

    _engines: ClassVar[dict[str, Any]] = {}  # per process, by URL; not shared with kombu's own channel

    def __init__(self, connection: Any, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        options = connection.client.transport_options
        self.visibility_timeout = float(options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT))
        self._rows: dict[str, int] = {}  # delivery tag -> the message's row, for what this channel took
        self._queue_ids: dict[str, int] = {}

    def _engine_from_config(self) -> Any:
        # Only engine options: kombu would hand every transport option (visibility_timeout...) to create_engine.
        engine = create_engine(self.connection.client.hostname, hide_parameters=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _open(self) -> Any:
        url = self.connection.client.hostname
        with kombu_sqla._MUTEX:
            if url not in self._engines:
                with warnings.catch_warnings():
                    # kombu's models use lazy="noload", which SQLAlchemy 2.1 deprecates; they never load the
                    # relationship, so it changes nothing here. Configured once, quietly.
                    warnings.filterwarnings("ignore", r".*``noload`` loader strategy", SADeprecationWarning)
                    configure_mappers()
                engine = self._engine_from_config()
                for attempt in range(3):  # two processes creating the tables at once: the loser finds them made
                    try:
                        kombu_sqla.metadata.create_all(engine)
                        break
                    except DBAPIError:
                        if attempt == 2:
                            raise
                self._engines[url] = engine, sessionmaker(bind=engine)
        return self._engines[url]

    def exchange_declare(self, *args: Any, **kwargs: Any) -> Any:
        # Exchanges live in memory (kombu's virtual transports): without this, a publisher with no queue bound would
        # "publish" to a database that is down. Declaring is where a connection starts, so the database is asked.
        engine, _ = self._open()
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return super().exchange_declare(*args, **kwargs)

    def _queue_id(self, queue: str) -> int:
        if queue not in self._queue_ids:
            try:
                self._queue_ids[queue] = int(self._get_or_create(queue).id)
            finally:
                self.session.commit()  # no transaction left open: it would pin an old snapshot of the table
        return self._queue_ids[queue]

    def _write(self, statement: Any, *, returning: bool = False) -> Any:
        engine, _ = self._open()
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock first: no other writer in between
            result = conn.execute(statement)
            row = result.first() if returning else None
            conn.commit()
        return row

    def _get(self, queue: str) -> Any:
        table = self.message_cls.__table__
        queue_id = self._queue_id(queue)
        now = _utcnow()
        # kombu's "timestamp" column (sent_at) says when a message was taken: NULL until then.
        takeable = or_(table.c.visible.is_(True),
                       table.c.timestamp < now - timedelta(seconds=self.visibility_timeout))
        first = (select(table.c.id).where(table.c.queue_id == queue_id, takeable).order_by(table.c.id).limit(1)
                 .with_for_update(skip_locked=True).scalar_subquery())
        taken = self._write(update(table).where(table.c.id == first, takeable)
                            .values(visible=False, timestamp=now).returning(table.c.id, table.c.payload),
                            returning=True)
        if taken is None:
            raise Empty()
        payload = loads(taken.payload)
        self._rows[payload["properties"]["delivery_tag"]] = taken.id
        return payload

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple)
        self._forget(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().basic_reject(delivery_tag, requeue)  # requeue: _restore below
        if not requeue:
            self._forget(delivery_tag)

    def _forget(self, delivery_tag: str) -> None:
        row = self._rows.pop(delivery_tag, None)
        if row is not None:
            table = self.message_cls.__table__
            self._write(delete(table).where(table.c.id == row))

    def _restore(self, message: Any) -> None:
        row = self._rows.pop(message.delivery_tag, None)
        if row is None:
            super()._restore(message)
            return
        # Visible again where it was: ordered by id, it comes back before anything published after it.
        table = self.message_cls.__table__
        self._write(update(table).where(table.c.id == row).values(visible=True))


class _EmbeddedTransport(kombu_sqla.Transport):
    Channel = _EmbeddedChannel
    connection_errors = (SqlOperationalError, InterfaceError)


TRANSPORT_ALIASES.setdefault(EMBEDDED_ALIAS, f"{__name__}:_EmbeddedTransport")
