"""The HTTP layer every SOAP and REST adapter shares: endpoints from connections, the https rule, the host
allow-list, no link-local or metadata addresses, TLS verification always on, and one configured requests session per
connection. See docs/connections.md."""

from brygga_adapters.http.auth import cache_slot, clear_tokens
from brygga_adapters.http.errors import UnsafeUrl
from brygga_adapters.http.session import GuardedSession, build_session, timeouts
from brygga_adapters.http.urls import allowed_hosts, check_resolved, check_url, endpoint_url, http_allowed

__all__ = [
    "GuardedSession",
    "UnsafeUrl",
    "allowed_hosts",
    "build_session",
    "cache_slot",
    "check_resolved",
    "check_url",
    "clear_tokens",
    "endpoint_url",
    "http_allowed",
    "timeouts",
]
