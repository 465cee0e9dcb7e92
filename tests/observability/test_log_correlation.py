"""Every log record made while Brygga works on a submission names it: in caplog, in a formatter asking for
``%(brygga_correlation_id)s``, and in Airflow 3's task log, rendered by Airflow's own structlog processors."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from brygga.observability.logs import install_log_correlation
from brygga.provenance import correlation

SID = "6f1c2b7e-0000-4000-8000-00000000abcd"
log = logging.getLogger("brygga_adapters.byggr.test")


def test_a_record_inside_a_submission_carries_its_id(caplog, log_correlation):
    with caplog.at_level(logging.INFO), correlation(SID):
        log.info("SaveNewArende answered in %d ms", 12)
    (record,) = caplog.records
    assert record.brygga_correlation_id == SID
    assert record.getMessage() == f"[submission {SID}] SaveNewArende answered in 12 ms"


def test_a_message_that_names_the_submission_is_left_as_it_is(caplog, log_correlation):
    with caplog.at_level(logging.INFO), correlation(SID):
        log.info("submission %s delivered to %s", SID, "byggr")
        log.info(f"submission {SID} archived")
        log.info("%(sid)s notified", {"sid": SID})
    assert [record.getMessage() for record in caplog.records] == [
        f"submission {SID} delivered to byggr", f"submission {SID} archived", f"{SID} notified"]
    assert {record.brygga_correlation_id for record in caplog.records} == {SID}


def test_outside_a_submission_nothing_is_added(caplog, log_correlation):
    with caplog.at_level(logging.INFO):
        log.info("polled %d changes", 3)
    (record,) = caplog.records
    assert record.getMessage() == "polled 3 changes" and record.brygga_correlation_id is None


def test_a_library_may_log_its_own_correlation_id_as_extra(caplog, log_correlation):
    """logging refuses an ``extra`` key the record already has: Brygga's attribute must not take a common name."""
    with caplog.at_level(logging.INFO), correlation(SID):
        log.info("answered", extra={"correlation_id": "their-request-17"})
    (record,) = caplog.records
    assert record.correlation_id == "their-request-17" and record.brygga_correlation_id == SID
    assert record.getMessage() == f"[submission {SID}] answered"


def test_installing_twice_adds_the_prefix_once(caplog, log_correlation):
    install_log_correlation()
    with caplog.at_level(logging.INFO), correlation(SID):
        log.info("one prefix")
    assert caplog.records[0].getMessage() == f"[submission {SID}] one prefix"


def test_a_percent_in_an_id_is_no_placeholder(caplog, log_correlation):
    with caplog.at_level(logging.INFO), correlation("odd%sid"):
        log.info("%d attempts", 2)
    assert caplog.records[0].getMessage() == "[submission odd%sid] 2 attempts"


def _captured(handler: logging.Handler, stream: io.StringIO) -> str:
    logger = logging.getLogger("brygga.observability.captured")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with correlation(SID):
            logger.warning("target %s: attempt %d failed", "byggr", 2)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_a_formatter_can_show_the_id_as_a_field(log_correlation):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(brygga_correlation_id)s %(message)s"))
    assert _captured(handler, stream) == f"WARNING {SID} [submission {SID}] target byggr: attempt 2 failed\n"


@pytest.mark.parametrize("json_output", [True, False], ids=["task-log-json", "console"])
def test_airflow_task_log_shows_the_submission(log_correlation, json_output):
    """The formatter Airflow 3's configure_logging gives stdlib records in a task process (JSON to the supervisor,
    which the UI shows), built from Airflow's own processors: the event text names the submission."""
    from airflow.sdk._shared.logging.structlog import drop_positional_args, structlog_processors

    shared, for_stdlib, _ = structlog_processors(json_output, colors=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, drop_positional_args, for_stdlib],
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        use_get_message=False, pass_foreign_args=True)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    line = _captured(handler, stream)
    expected = f"[submission {SID}] target byggr: attempt 2 failed"
    if json_output:
        assert json.loads(line)["event"] == expected
    else:
        assert expected in line
