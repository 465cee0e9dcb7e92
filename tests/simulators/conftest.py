"""Simulators on real sockets (port 0) (tests/helpers/simulator_fixtures.py), plus a raw SOAP poster for requests
zeep would never build."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from simulator_fixtures import byggr, callback

from brygga_simulators import RunningSimulator

__all__ = ["byggr", "callback", "post_soap"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture
def post_soap() -> Callable[[RunningSimulator, str | bytes], requests.Response]:
    """``post_soap(sim, body_xml)`` wraps ``body_xml`` in an Envelope unless it is bytes (sent as is)."""

    def post(sim: RunningSimulator, body: str | bytes) -> requests.Response:
        data = (
            body
            if isinstance(body, bytes)
            else (f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{body}</s:Body></s:Envelope>'.encode())
        )
        return requests.post(
            sim.url, data=data, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10
        )

    return post
