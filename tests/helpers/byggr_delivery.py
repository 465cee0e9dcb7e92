"""Deliver one request twice through the real byggr adapter to a ByggR simulator on a socket: the first call
creates the case, the second must find it (check-before-create)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brygga.connections import Connection
from brygga.plugins import DeliveryReceipt, DeliveryRequest
from brygga_adapters.byggr import ByggrTarget
from brygga_simulators import start_simulator


@dataclass(frozen=True)
class TwoDeliveries:
    first: DeliveryReceipt
    again: DeliveryReceipt
    record: Any  # the simulator's record of the case
    cases: int  # how many cases the simulator holds afterwards
    requests: list[bytes]  # every request body the simulator received, in order


def deliver_twice(request: DeliveryRequest) -> TwoDeliveries:
    with start_simulator("byggr") as sim:
        target = ByggrTarget({}, Connection.from_uri("byggr", f"{sim.url}?allow_http=true"))
        first = target.deliver(request)  # a SOAP fault (schema or business rule) would raise TargetRejected
        again = target.deliver(request)
        return TwoDeliveries(first, again, sim.app.cases[first.external_ref], len(sim.app.cases),
                             list(sim.app.captured_requests))
