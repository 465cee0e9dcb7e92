"""Exceptions shared across the core. Messages never carry personal data, only paths and rules."""

from __future__ import annotations


class BryggaError(Exception):
    """Base for every error Brygga raises on purpose."""


class ConfigError(BryggaError):
    """A route, mapping or adapter configuration is invalid. Raised before anything runs."""


class CredentialsRefused(ConfigError):
    """The target refused the connection's credentials (HTTP 401, 403, 407): fix the connection. An infrastructure
    fault: nothing is quarantined, the task fails and is retried."""


class TargetRejected(BryggaError):
    """The target refused the request (e.g. a SOAP fault for invalid data). Retrying will not help."""


class TargetUnavailable(BryggaError):
    """The target could not be reached or answered with a temporary error. Safe to retry."""


class TargetInDoubt(TargetUnavailable):
    """The request may have reached the target, but no answer came (a read timeout, a reply lost on the way).

    Transient, and more: a create may have happened. The next attempt waits the route's ``in_doubt_delay``, then
    checks the target by the extern reference before it creates anything.
    """
