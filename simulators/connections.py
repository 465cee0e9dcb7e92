"""A stand-in for the system behind one of a route's connections, and the connection URI that points at it.

``brygga run --simulators`` (and ``brygga demo``) start one per connection, chosen by the adapter that uses it:

- a SOAP or REST simulator serving the system's contract over real HTTP (``byggr``, ``ecos``, the work-order
  system for the generic ``rest`` adapter, the property register, Open ePlatform's callback);
- a loopback SFTP server for ``sftp-inbox`` and ``sftp-archive``, with a fresh host key the connection pins;
- for ``webhook`` nothing to start: the connection only holds the shared secret the platform signs with.

Credentials are made up per start, so no secret of the demo is written anywhere but the process's environment.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from brygga_simulators import SIMULATORS, start_simulator

# Adapter -> the simulator that stands in for its system, where the names differ.
SIMULATOR_FOR_ADAPTER = {"rest": "work-order"}
SFTP_ADAPTERS = ("sftp-inbox", "sftp-archive")
NOTHING_TO_START = ("webhook",)


@dataclass(frozen=True)
class Simulated:
    uri: str  # what the connection is set to
    running: Any = None  # the RunningSimulator or RunningSftpServer, for inspection
    secret: str | None = None  # the credential the simulator accepts (for a webhook, the signing secret)


def simulator_name(adapter: str) -> str | None:
    """The simulator standing in for ``adapter``'s system, or None when there is none."""
    if adapter in SFTP_ADAPTERS:
        return "sftp"
    if adapter in NOTHING_TO_START:
        return adapter
    name = SIMULATOR_FOR_ADAPTER.get(adapter, adapter)
    return name if name in SIMULATORS else None


def _with_query(base: str, extras: dict[str, str]) -> str:
    return f"{base}?{urlencode(extras)}"


@contextlib.contextmanager
def simulate(adapter: str, workdir: Path, fault_plan: str | None = None) -> Iterator[Simulated]:
    """Start the stand-in for ``adapter``'s system; ``workdir`` holds what it keeps on disk (an SFTP root)."""
    name = simulator_name(adapter)
    if name is None:
        raise KeyError(adapter)
    if name == "webhook":
        secret = secrets.token_hex(32)
        yield Simulated(uri=f"https://:{secret}@localhost", secret=secret)
        return
    if name == "sftp":
        from brygga_simulators.sftp import start_sftp_server

        password = secrets.token_urlsafe(16)
        with start_sftp_server(workdir, users={"brygga": password}) as server:
            uri = f"sftp://brygga:{quote(password, safe='')}@{server.host}:{server.port}/"
            yield Simulated(uri=_with_query(uri, {"host_key": server.host_key_line}), running=server, secret=password)
        return
    options: dict[str, Any] = {"fault_plan": fault_plan} if fault_plan else {}
    if name == "work-order":
        secret = secrets.token_urlsafe(16)
        with start_simulator(name, clients=f"brygga:{secret}", **options) as sim:
            base = sim.url.replace("://", f"://brygga:{quote(secret, safe='')}@", 1)
            token_url = f"{sim.app.path}/oauth2/token"
            yield Simulated(uri=_with_query(base, {"allow_http": "true", "auth": "oauth2", "token_url": token_url}),
                            running=sim, secret=secret)
        return
    # Every stand-in takes one made-up account, as the real system takes the integration user's.
    secret = secrets.token_urlsafe(16)
    with start_simulator(name, basic_auth=f"brygga:{secret}", **options) as sim:
        # Local simulators speak plain HTTP, which a connection must allow explicitly.
        base = sim.url.replace("://", f"://brygga:{quote(secret, safe='')}@", 1)
        yield Simulated(uri=f"{base}?allow_http=true", running=sim, secret=secret)
