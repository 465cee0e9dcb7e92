"""A stand-in for the system behind one of a route's connections, and the connection URI that points at it.

``brygga run --simulators`` (and ``brygga demo``) start one per connection, chosen by the adapter that uses it:

- a SOAP or REST simulator serving the system's contract over real HTTP (``byggr``, ``ecos``, the work-order
  system for the generic ``rest`` adapter, the property register, Open ePlatform's callback);
- a loopback SFTP server for ``sftp-inbox`` and ``sftp-archive``, with a fresh host key the connection pins;
- for ``webhook`` nothing to start: the connection only holds the shared secret the platform signs with;
- for ``mina-meddelanden`` the digital mailbox over https with mutual TLS: a test CA, a server certificate for
  127.0.0.1 and the organisation's certificate and key are made in the workdir, and the connection names them
  (extras ``cert_file``, ``key_file``, ``ca_bundle``); the same certificate signs the deliveries.

Credentials are made up per start, so no secret of the demo is written anywhere but the process's environment (and,
for the mutual-TLS stand-in, the throwaway keys in its workdir).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from brygga_simulators import SIMULATORS, start_simulator

# Adapter -> the simulator that stands in for its system, where the names differ.
SIMULATOR_FOR_ADAPTER = {"rest": "work-order"}
SFTP_ADAPTERS = ("sftp-inbox", "sftp-archive")
NOTHING_TO_START = ("webhook",)
MUTUAL_TLS = ("mina-meddelanden",)  # known by the organisation's certificate, not an account


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
    """Start the stand-in for ``adapter``'s system; ``workdir`` holds what it keeps on disk (an SFTP root).

    Every stand-in takes one made-up account, as the real system takes the integration user's: the URI carries it.
    """
    name = simulator_name(adapter)
    if name is None:
        raise KeyError(adapter)
    secret = secrets.token_urlsafe(32)  # URL-safe as it is; long enough for a webhook's signing secret
    if name == "webhook":
        yield Simulated(uri=f"https://:{secret}@localhost", secret=secret)
        return
    if name == "sftp":
        from brygga_simulators.sftp import start_sftp_server

        with start_sftp_server(workdir, users={"brygga": secret}) as server:
            uri = f"sftp://brygga:{secret}@{server.host}:{server.port}/"
            yield Simulated(uri=_with_query(uri, {"host_key": server.host_key_line}), running=server, secret=secret)
        return
    options: dict[str, Any] = {"fault_plan": fault_plan} if fault_plan else {}
    if name in MUTUAL_TLS:
        from brygga_simulators.mina_meddelanden import start_secure

        running, pki = start_secure(workdir / "pki", **options)
        with running:
            extras = {"cert_file": str(pki.client_cert), "key_file": str(pki.client_key), "ca_bundle": str(pki.ca_file)}
            yield Simulated(uri=_with_query(running.base_url, extras), running=running)
        return
    # Local simulators speak plain HTTP, which a connection must allow explicitly.
    extras = {"allow_http": "true"}
    if name == "work-order":  # an OAuth2 client of the work-order system's own token endpoint
        options["clients"] = f"brygga:{secret}"
    else:
        options["basic_auth"] = f"brygga:{secret}"
    with start_simulator(name, **options) as sim:
        if name == "work-order":
            extras |= {"auth": "oauth2", "token_url": f"{sim.app.path}/oauth2/token"}
        base = sim.url.replace("://", f"://brygga:{secret}@", 1)
        yield Simulated(uri=_with_query(base, extras), running=sim, secret=secret)
