"""The one error of the shared HTTP layer."""

from __future__ import annotations

from brygga.errors import TargetRejected


class UnsafeUrl(TargetRejected):
    """A URL the connection does not allow: another host, a scheme downgrade or a non-web scheme (SSRF guard).

    Permanent: sending the same request again would be refused again. Messages name the connection id and the
    rule, never credentials.
    """
