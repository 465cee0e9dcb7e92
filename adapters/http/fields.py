"""What an HTTP connection holds, for an adapter's ``connection_fields`` (shown by `brygga adapters list`).

Every SOAP and REST adapter reads the same fields through this package (docs/connections.md); an adapter names
only what differs: its system's host, path and account.
"""

from __future__ import annotations


def http_connection_fields(*, system: str, path: str, account: str) -> dict[str, str]:
    return {
        "host": f"the {system} host (or its whole URL); port and scheme in their own fields, https unless "
                "extra allow_http",
        "extra path": f"the service path, e.g. {path}",
        "login": account,
        "password": "its password, API key, bearer token or OAuth2 client secret (by extra auth)",
        "extra auth": "basic (default), bearer, api_key or oauth2 (client credentials)",
        "extra token_url": "with auth oauth2: the token endpoint, absolute or a path on the same origin",
        "extra scope": "with auth oauth2: the scope to ask for, if the server needs one",
        "extra api_key_header": "with auth api_key: the header that carries it (default X-API-Key)",
        "extra allowed_hosts": "other hosts the connection may reach; they never get the credentials",
        "extra ca_bundle": "PEM file of the CA that signed the server's certificate (e.g. the kommun's internal CA)",
        "extra cert_file": "client certificate for mutual TLS (with extra key_file)",
        "extra key_file": "the client certificate's key file (a path, never the PEM itself)",
        "extra connect_timeout": "seconds to connect (default 5)",
        "extra read_timeout": "seconds to wait for an answer (default 30)",
        "extra allow_http": "true for a local simulator only",
    }


def soap_connection_fields(*, system: str, path: str, account: str) -> dict[str, str]:
    return {
        "conn_type": "brygga_soap (Brygga SOAP target), or a plain https URI as BRYGGA_CONN_<ID>",
        **http_connection_fields(system=system, path=path, account=account),
        "extra wsdl": "WSDL URL or local file, when the service serves no single-file WSDL; default {endpoint}?wsdl",
        "extra service": "the WSDL service to bind, when the WSDL has several",
        "extra port": "the WSDL port to bind; default: the one with the connection's scheme",
        "extra wsse": "username_token or username_token_digest: the credentials as WS-Security instead",
    }
