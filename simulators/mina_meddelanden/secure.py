"""Serving the Mina meddelanden simulator behind mutual TLS, with a throwaway PKI made for the run."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from brygga_simulators.mina_meddelanden.certificates import SimulatorPki, make_test_pki, server_context
from brygga_simulators.mina_meddelanden.service import MinaMeddelandenSimulator
from brygga_simulators.serving import RunningSimulator, serve


def start_secure(folder: Path, host: str = "127.0.0.1", port: int = 0, pki: SimulatorPki | None = None,
                 maximum_tls: ssl.TLSVersion | None = None, **options: Any) -> tuple[RunningSimulator, SimulatorPki]:
    """Serve a ``MinaMeddelandenSimulator`` over https, a client certificate from the test CA required.

    ``folder`` gets the PKI's PEM files (unless ``pki`` is given); the simulator trusts signatures whose
    certificate chains to the test CA unless ``options`` say otherwise. ``fault_plan`` is taken as by
    ``start_simulator``. ``maximum_tls``: see ``server_context``. Stop the returned RunningSimulator (a context
    manager).
    """
    pki = pki or make_test_pki(folder)
    fault_plan = options.pop("fault_plan", None)
    options.setdefault("trusted_ca", pki.ca_file)
    app = MinaMeddelandenSimulator(**options)
    if fault_plan is not None:
        app.faults.set(fault_plan)
    return serve(app, host=host, port=port, ssl_context=server_context(pki, maximum_tls)), pki
