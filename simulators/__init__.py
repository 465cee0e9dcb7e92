"""Stand-ins for the outside systems, serving their own WSDLs over real HTTP.

    from brygga_simulators import start_simulator
    with start_simulator("byggr") as sim:      # port 0: a free port is picked
        print(sim.wsdl_url)                     # http://127.0.0.1:PORT/TekisArende/ArendeExportWS.svc?wsdl
        sim.app.cases                           # what the simulator holds

From a shell: ``python -m brygga_simulators byggr --port 8081``.
"""

from __future__ import annotations

from importlib import import_module

from brygga_simulators.soap_server import RunningSimulator, SoapFault, SoapSimulator, serve

# name -> "module:Class", imported on demand so one simulator never pays for another.
SIMULATORS: dict[str, str] = {
    "byggr": "brygga_simulators.byggr:ByggrSimulator",
    "oep-callback": "brygga_simulators.oep_callback:OepCallbackSimulator",
}


def simulator_class(name: str) -> type[SoapSimulator]:
    if name not in SIMULATORS:
        raise KeyError(f"unknown simulator {name!r}; known: {', '.join(sorted(SIMULATORS))}")
    module, _, attribute = SIMULATORS[name].partition(":")
    return getattr(import_module(module), attribute)


def start_simulator(
    name_or_class: str | type[SoapSimulator] | SoapSimulator, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Start a simulator (by name, class or ready instance) on a real socket in a background thread."""
    if isinstance(name_or_class, SoapSimulator):
        app = name_or_class
    else:
        cls = simulator_class(name_or_class) if isinstance(name_or_class, str) else name_or_class
        app = cls()
    return serve(app, host=host, port=port)


__all__ = [
    "SIMULATORS",
    "RunningSimulator",
    "SoapFault",
    "SoapSimulator",
    "simulator_class",
    "start_simulator",
]
