"""brygga.connections: URIs and Airflow-style fields become the same endpoint (no Airflow needed here; the
Airflow side, with real Airflow Connection objects, is in tests/airflow/test_airflow_connections.py)."""

from __future__ import annotations

import pytest

from brygga.connections import Connection, EnvConnectionResolver, InvalidConnection
from brygga.errors import ConfigError
from brygga_adapters.http import endpoint_url

BYGGR = "https://byggr.kommun.local:443/TekisArende/ArendeExportWS.svc"


def _fields(**fields: object) -> Connection:
    return Connection.from_fields("byggr-kumla", **fields)


def test_uri_keeps_a_path_with_slashes():
    connection = Connection.from_uri("byggr-kumla", "https://u:p%40ss@byggr.kommun.local:443/TekisArende/ArendeExportWS.svc/")

    assert endpoint_url(connection) == BYGGR
    assert (connection.login, connection.password) == ("u", "p@ss")


@pytest.mark.parametrize(
    "fields",
    [
        # The Airflow form: conn_type, host, port, schema as the scheme, the path as an extra.
        dict(conn_type="brygga_soap", host="byggr.kommun.local", port=443, schema="https",
             extra={"path": "/TekisArende/ArendeExportWS.svc"}),
        # The same without schema: a Brygga connection type means https.
        dict(conn_type="brygga_soap", host="byggr.kommun.local", port=443,
             extra={"path": "TekisArende/ArendeExportWS.svc"}),
        # The URI form as Airflow parses it: scheme in conn_type, the path in schema without its leading /.
        dict(conn_type="https", host="byggr.kommun.local", port=443, schema="TekisArende/ArendeExportWS.svc"),
        # brygga-soap://host:443/TekisArende/ArendeExportWS.svc
        dict(conn_type="brygga_soap", host="byggr.kommun.local", port=443, schema="TekisArende/ArendeExportWS.svc"),
        # A whole URL in the host field, as Airflow's HTTP connections allow.
        dict(conn_type="brygga_soap", host="https://byggr.kommun.local:443/TekisArende/ArendeExportWS.svc"),
        # Host with scheme, port in its own field, schema repeating the scheme.
        dict(conn_type="http", host="https://byggr.kommun.local", port="443", schema="HTTPS",
             extra={"path": "/TekisArende/ArendeExportWS.svc"}),
    ],
)
def test_fields_as_airflow_users_enter_them(fields):
    assert endpoint_url(_fields(**fields)) == BYGGR


def test_http_needs_saying_and_allowing():
    connection = _fields(conn_type="http", host="127.0.0.1", port=8081, schema="TekisArende/ArendeExportWS.svc",
                         extra={"allow_http": True})

    assert endpoint_url(connection) == "http://127.0.0.1:8081/TekisArende/ArendeExportWS.svc"


def test_extras_become_the_text_adapters_read():
    connection = _fields(host="h", extra={"allow_http": False, "read_timeout": 60, "allowed_hosts": ["a", "b"],
                                          "ca_bundle": None, "headers": {"X": "1"}})

    assert connection.extra == {"allow_http": "false", "read_timeout": "60", "allowed_hosts": "a,b",
                                "headers": '{"X": "1"}'}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(host="http://h", schema="https"), "field 'host' and field 'schema' give different schemes"),
        (dict(host="h:8443", port=443), "field 'port' and field 'host' give different ports"),
        (dict(host="https://h/a", extra={"path": "/b"}), "extra 'path' and field 'host' give different paths"),
        (dict(host="h", schema="a", extra={"path": "/b"}), "give different paths"),
        (dict(host="", schema="https"), "field 'host' is empty"),
        (dict(host="https://user:pw@h"), "field 'host' may hold a scheme, host, port and path only"),
        (dict(host="ftp://h"), "carries a scheme other than http/https"),
        (dict(host="h", port="https"), "field 'port' is not a number"),
        (dict(host="h", port=70000), "field 'port' is out of range"),
    ],
)
def test_contradicting_or_broken_fields_are_refused_by_name(fields, message):
    with pytest.raises(InvalidConnection, match=message) as refused:
        _fields(password="s3cret", **fields)
    assert "s3cret" not in str(refused.value) and "'byggr-kumla'" in str(refused.value)
    assert isinstance(refused.value, ConfigError | ValueError)


def test_agreeing_fields_are_fine():
    connection = _fields(host="https://h:8443/a", port=8443, schema="https", extra={"path": "a/"})

    assert endpoint_url(connection) == "https://h:8443/a"


def test_env_resolver_reads_brygga_conn_uris():
    resolver = EnvConnectionResolver({"BRYGGA_CONN_BYGGR_KUMLA": BYGGR + "?read_timeout=60"})

    connection = resolver.get("byggr-kumla")

    assert endpoint_url(connection) == BYGGR and connection.extra == {"read_timeout": "60"}
