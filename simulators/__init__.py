"""Stand-ins for the outside systems, serving their own WSDLs (SOAP) or JSON (REST) over real HTTP.

    from brygga_simulators import start_simulator
    with start_simulator("byggr") as sim:      # port 0: a free port is picked
        print(sim.wsdl_url)                     # http://127.0.0.1:PORT/TekisArende/ArendeExportWS.svc?wsdl
        sim.app.cases                           # what the simulator holds
    with start_simulator("oep-callback", variant="sundsvall") as sim: ...
    with start_simulator("property-register", basic_auth="brygga:s3cret") as sim:
        print(sim.url)                          # the service root a Connection points at
    with start_simulator("byggr", fault_plan=[{"action": "http_status", "status": 503, "times": 3}]) as sim: ...

``mina-meddelanden`` wants mutual TLS, which ``start_simulator`` does not set up (plain http; every call then gets
HTTP 403 for want of a client certificate): use ``brygga_simulators.mina_meddelanden.start_secure``.

From a shell: ``python -m brygga_simulators byggr --port 8081``;
``python -m brygga_simulators property-register --option basic_auth=brygga:s3cret``;
``--option 'fault_plan=[{"operation": "SaveNewArende", "action": "lose_reply", "nth": 1}]'`` (brygga_simulators.faults).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, TypeAlias

from brygga_simulators.rest_server import RestSimulator
from brygga_simulators.serving import RunningSimulator, serve
from brygga_simulators.soap_server import SoapFault, SoapSimulator

# name -> "module:Class", imported on demand so one simulator never pays for another.
SIMULATORS: dict[str, str] = {
    "byggr": "brygga_simulators.byggr:ByggrSimulator",
    "ecos": "brygga_simulators.ecos:EcosSimulator",
    "mina-meddelanden": "brygga_simulators.mina_meddelanden:MinaMeddelandenSimulator",
    "oep-callback": "brygga_simulators.oep_callback:OepCallbackSimulator",
    "property-register": "brygga_simulators.property_register:PropertyRegisterSimulator",
    "work-order": "brygga_simulators.workorder:WorkOrderSimulator",
}

Simulator: TypeAlias = SoapSimulator | RestSimulator


def simulator_class(name: str) -> type[Simulator]:
    if name not in SIMULATORS:
        raise KeyError(f"unknown simulator {name!r}; known: {', '.join(sorted(SIMULATORS))}")
    module, _, attribute = SIMULATORS[name].partition(":")
    return getattr(import_module(module), attribute)


def start_simulator(
    name_or_class: str | type[Simulator] | Simulator, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> RunningSimulator:
    """Start a simulator (by name, class or ready instance) on a real socket in a background thread.

    ``options`` go to the simulator's constructor, e.g. ``variant="sundsvall"`` for ``oep-callback``, except
    ``fault_plan`` (JSON text or a list of rules, see ``brygga_simulators.faults``), which every simulator takes,
    and ``basic_auth="user:password"``, which every simulator takes too (a SOAP one then refuses any other caller).
    """
    fault_plan = options.pop("fault_plan", None)
    if isinstance(name_or_class, SoapSimulator | RestSimulator):
        if options:
            raise TypeError("options apply when the simulator is started by name or class, not to an instance")
        app = name_or_class
    else:
        cls = simulator_class(name_or_class) if isinstance(name_or_class, str) else name_or_class
        # A REST simulator takes basic_auth in its constructor; a SOAP one is told afterwards.
        soap_auth = options.pop("basic_auth", None) if issubclass(cls, SoapSimulator) else None
        app = cls(**options)
        if soap_auth:
            app.require_basic_auth(soap_auth)
    if fault_plan is not None:
        app.faults.set(fault_plan)
    return serve(app, host=host, port=port)


__all__ = [
    "SIMULATORS",
    "RestSimulator",
    "RunningSimulator",
    "Simulator",
    "SoapFault",
    "SoapSimulator",
    "simulator_class",
    "start_simulator",
]
