"""How Brygga's connection types look in Airflow's connection form: labels, placeholders and extra fields.

One source for both places Airflow reads it from: the provider info (``ui-field-behaviour`` and ``conn-fields``,
which Airflow 3.2+ prefers) and the hooks' ``get_ui_field_behaviour``.
"""

from __future__ import annotations

from typing import Any

_COMMON_RELABELING = {
    "host": "Host (or https://host:port/path)",
    "schema": "Scheme (https) or path",
    "login": "User (HTTP Basic auth, or WS-Security)",
    "password": "Password (HTTP Basic auth, or WS-Security)",
}


def field_behaviour(kind: str) -> dict[str, Any]:
    """The hook-style dict: hidden_fields, relabeling, placeholders."""
    path = "/TekisArende/ArendeExportWS.svc" if kind == "soap" else "/api/v1"
    host = "byggr.kommun.local" if kind == "soap" else "fastighet.kommun.local"
    return {
        "hidden_fields": [],
        "relabeling": dict(_COMMON_RELABELING),
        "placeholders": {
            "host": host,
            "port": "443",
            "schema": "https",
            "login": "svc-brygga",
            "extra": f'{{"path": "{path}", "ca_bundle": "/etc/ssl/certs/kommun-ca.pem"}}',
        },
    }


def provider_field_behaviour(kind: str) -> dict[str, Any]:
    """The same, in the provider info's kebab-case keys."""
    behaviour = field_behaviour(kind)
    return {
        "hidden-fields": behaviour["hidden_fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": behaviour["placeholders"],
    }


def _text(label: str, description: str) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["string", "null"]}}


def _seconds(label: str, description: str) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["number", "null"], "minimum": 0}}


def conn_fields(kind: str) -> dict[str, Any]:
    """Extra fields shown in the form; Airflow stores them in the Connection's extras under these names."""
    example = "/TekisArende/ArendeExportWS.svc" if kind == "soap" else "/api/v1"
    fields: dict[str, Any] = {
        "path": _text("Path", f"URL path of the endpoint, e.g. {example}"),
        "allow_http": {
            "label": "Allow plain http",
            "description": "Only for local simulators: personal data and the password would travel in clear text.",
            "schema": {"type": "boolean", "default": False},
        },
        "ca_bundle": _text("CA bundle", "File of CA certificates to trust for this target instead of the system's."),
        "cert_file": _text("Client certificate", "Certificate file for mutual TLS."),
        "key_file": _text("Client key", "Private key file for mutual TLS (with the client certificate)."),
        "allowed_hosts": _text("Other allowed hosts", "Comma-separated host or host:port entries besides the "
                                                      "connection's own host and port; they get no credentials."),
        "connect_timeout": _seconds("Connect timeout (s)", "Default 5."),
        "read_timeout": _seconds("Read timeout (s)", "Default 30."),
    }
    if kind == "soap":
        fields["wsdl"] = _text("WSDL", "URL or local file of the WSDL; default: the endpoint with ?wsdl.")
        fields["wsse"] = {
            "label": "WS-Security",
            "description": "Send the user and password as a WS-Security UsernameToken in the SOAP header instead "
                           "of HTTP Basic auth: as text, or as a digest.",
            "schema": {"type": ["string", "null"], "enum": [None, "username_token", "username_token_digest"]},
        }
    return fields
