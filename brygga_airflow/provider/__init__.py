"""Brygga as an Airflow provider: its connection types, registered through the ``apache_airflow_provider``
entry point so Airflow's connection form offers them. Importing this module does not import Airflow."""

from __future__ import annotations

from typing import Any

from brygga import __version__
from brygga_airflow.provider.fields import conn_fields, provider_field_behaviour

SOAP_CONN_TYPE = "brygga_soap"
HTTP_CONN_TYPE = "brygga_http"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "brygga",
        "name": "Brygga",
        "description": "Connections to the systems Brygga delivers to: SOAP targets (ByggR, Open ePlatform's "
        "callback) and REST targets (e.g. the property register).",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": SOAP_CONN_TYPE,
                "hook-class-name": "brygga_airflow.provider.hooks.BryggaSoapHook",
                "hook-name": "Brygga SOAP target",
                "ui-field-behaviour": provider_field_behaviour("soap"),
                "conn-fields": conn_fields("soap"),
            },
            {
                "connection-type": HTTP_CONN_TYPE,
                "hook-class-name": "brygga_airflow.provider.hooks.BryggaHttpHook",
                "hook-name": "Brygga REST target",
                "ui-field-behaviour": provider_field_behaviour("http"),
                "conn-fields": conn_fields("http"),
            },
        ],
    }
