"""Transient, permanent or infrastructure: the one table that decides what a fault does to a submission.

- **transient**: the remote system may answer next time. Retried with backoff within the call site's time budget
  (``retry`` in the route), then quarantined.
- **permanent**: the same request would be refused again. Quarantined at once, with the reason.
- **infrastructure**: not the submission's fault (a connection or secret that cannot be resolved, a configuration
  error, the ledger locked or down, a disk full or read-only). Nothing is quarantined: the task fails, Airflow
  retries it, and the submission carries on once the fault is fixed.

Adapters map their protocol's answers with ``http_status_fault`` and ``soap_fault_code_fault``; the pipeline maps
exceptions with ``classify``. docs/reliability.md has the table in prose, and tests/core/test_faults.py tests each row.
"""

from __future__ import annotations

import errno
from enum import StrEnum

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from brygga.connections import ConnectionNotFound, ConnectionUnavailable
from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga.mapping.errors import InvalidSource, MappingFailed


class Fault(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    INFRASTRUCTURE = "infrastructure"


# HTTP: the server had a problem, or asks to come back later.
TRANSIENT_HTTP_4XX = frozenset({408, 425, 429})

# SOAP 1.1 faultcode local names and SOAP 1.2 Code values. Server/Receiver: the service failed to process a
# request that may be fine; Client/Sender: the request itself is wrong. Anything else (VersionMismatch,
# MustUnderstand, a vendor's own code) is a problem with the request: permanent.
# WCF (the stack of many Swedish case systems) answers an unhandled server error with a:InternalServiceFault.
TRANSIENT_SOAP_CODES = frozenset({"Server", "Receiver", "InternalServiceFault"})

# A disk that is full or read-only, or a store that refuses writes, is the host's problem.
INFRASTRUCTURE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EIO})


# The connection's credentials (or a proxy's) were refused: an expired service password is the platform's
# problem, not the submission's, and quarantining every submission one by one would help nobody.
CREDENTIAL_HTTP_4XX = frozenset({401, 403, 407})


def http_status_fault(status: int) -> Fault:
    """5xx, 408, 425 and 429 are transient; 401, 403 and 407 infrastructure; every other 4xx (and a 3xx, which is
    not followed) is permanent."""
    if status >= 500 or status in TRANSIENT_HTTP_4XX:
        return Fault.TRANSIENT
    if status in CREDENTIAL_HTTP_4XX:
        return Fault.INFRASTRUCTURE
    return Fault.PERMANENT


def soap_fault_code_fault(code: str | None) -> Fault:
    """``s:Server`` or ``soap12:Receiver`` (possibly with a dotted subcode, ``Server.Busy``) is transient."""
    local = (code or "").rpartition(":")[2].split(".", 1)[0]
    return Fault.TRANSIENT if local in TRANSIENT_SOAP_CODES else Fault.PERMANENT


def classify(exc: BaseException) -> Fault | None:
    """The kind of fault ``exc`` is, or None for an unexpected error (a bug: quarantined by its type only)."""
    if isinstance(exc, TargetUnavailable):
        return Fault.TRANSIENT
    if isinstance(exc, TargetRejected | MappingFailed | InvalidSource):  # refused, or invalid input
        return Fault.PERMANENT
    if isinstance(exc, ConfigError | ConnectionNotFound | ConnectionUnavailable):
        return Fault.INFRASTRUCTURE
    if isinstance(exc, OperationalError | PoolTimeout) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return Fault.INFRASTRUCTURE
    if isinstance(exc, OSError) and exc.errno in INFRASTRUCTURE_ERRNOS:
        return Fault.INFRASTRUCTURE
    return None

