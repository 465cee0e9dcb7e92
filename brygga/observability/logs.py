"""Every log record made while Brygga works on a submission carries its correlation id (its submission id).

A LogRecord factory, not a handler filter: Airflow 3 replaces the handlers of a task process with its own structlog
ones (which render the message text and drop unknown record attributes), and pytest's caplog adds its own, but every
stdlib record, Brygga's and its libraries' (zeep, requests, urllib3), is made by the record factory. So the record
gets ``record.brygga_correlation_id`` (None outside a submission) for formatters that ask for
``%(brygga_correlation_id)s``, and, when its message does not already name the submission, the prefix
``[submission <id>] ``, which is what shows in Airflow's task log and in ``brygga run``'s output whatever the
formatter. The attribute's name is Brygga's own: the factory runs before ``extra=`` is applied, and logging refuses an
``extra`` key the record already has, so a plain ``correlation_id`` would break any library logging one.
"""

from __future__ import annotations

import logging
from typing import Any

from brygga.provenance import correlation_id

PREFIX = "[submission {id}] "
_MARK = "_brygga_correlation"  # set on our factory, so a second install finds it


def install_log_correlation() -> None:
    """Add the correlation id to every log record from now on. Idempotent."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return correlate(current(*args, **kwargs))

    setattr(factory, _MARK, True)
    factory.wrapped = current  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def uninstall_log_correlation() -> None:
    """Put back the factory ``install_log_correlation`` wrapped (tests)."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        logging.setLogRecordFactory(current.wrapped)  # type: ignore[attr-defined]


def correlate(record: logging.LogRecord) -> logging.LogRecord:
    cid = correlation_id()
    record.brygga_correlation_id = cid
    if cid and isinstance(record.msg, str) and not _names(record, cid):
        # With arguments the message is a %-format: a literal % in the id must not become a placeholder.
        shown = cid.replace("%", "%%") if record.args else cid
        record.msg = PREFIX.format(id=shown) + record.msg
    return record


def _names(record: logging.LogRecord, cid: str) -> bool:
    """Whether the message already names the submission (``"submission %s quarantined"``, with the id an arg)."""
    if cid in record.msg:
        return True
    args = record.args
    values = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else ()
    return any(isinstance(value, str) and cid in value for value in values)
