"""Every row of the fault table (brygga/faults.py, docs/reliability.md "Transient or permanent"), one test each."""

from __future__ import annotations

import errno
import sqlite3

import pytest
import requests
from sqlalchemy.exc import IntegrityError, OperationalError
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError
from zeep import exceptions as zeep_errors

from brygga.connections import ConnectionNotFound, InvalidConnection
from brygga.errors import ConfigError, CredentialsRefused, TargetInDoubt, TargetRejected, TargetUnavailable
from brygga.faults import Fault, classify, http_status_fault, soap_fault_code_fault
from brygga.mapping import InvalidSource, MappingFailed
from brygga_adapters.http import UnsafeUrl
from brygga_adapters.soap.errors import NotSoapReply, map_soap_error


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 408, 425, 429])
def test_server_errors_and_come_back_later_statuses_are_transient(status):
    assert http_status_fault(status) is Fault.TRANSIENT


@pytest.mark.parametrize("status", [301, 302, 400, 404, 409, 413, 422])
def test_other_client_errors_and_redirects_are_permanent(status):
    assert http_status_fault(status) is Fault.PERMANENT


@pytest.mark.parametrize("status", [401, 403, 407])
def test_refused_credentials_are_the_platforms_problem(status):
    assert http_status_fault(status) is Fault.INFRASTRUCTURE


@pytest.mark.parametrize("code", ["s:Server", "soap:Server", "Server", "soap12:Receiver", "Server.Busy",
                                  "a:InternalServiceFault"])
def test_a_soap_server_fault_is_transient(code):
    assert soap_fault_code_fault(code) is Fault.TRANSIENT


@pytest.mark.parametrize("code", ["s:Client", "Client", "soap12:Sender", "s:VersionMismatch", "MustUnderstand",
                                  "a:ActionNotSupported", "", None])
def test_a_soap_client_or_unknown_fault_is_permanent(code):
    assert soap_fault_code_fault(code) is Fault.PERMANENT


@pytest.mark.parametrize("exc, kind", [
    (TargetUnavailable("HTTP 503"), Fault.TRANSIENT),
    (TargetInDoubt("read timeout"), Fault.TRANSIENT),
    (TargetRejected("refused"), Fault.PERMANENT),
    (UnsafeUrl("another host"), Fault.PERMANENT),
    (MappingFailed([]), Fault.PERMANENT),
    (InvalidSource("not XML"), Fault.PERMANENT),
    (ConfigError("bad config"), Fault.INFRASTRUCTURE),
    (CredentialsRefused("HTTP 401"), Fault.INFRASTRUCTURE),
    (InvalidConnection("bad port"), Fault.INFRASTRUCTURE),
    (ConnectionNotFound("connection 'x' is not configured"), Fault.INFRASTRUCTURE),
    (OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked")), Fault.INFRASTRUCTURE),
    (OSError(errno.ENOSPC, "No space left on device"), Fault.INFRASTRUCTURE),
    (OSError(errno.EROFS, "Read-only file system"), Fault.INFRASTRUCTURE),
    (PermissionError(errno.EACCES, "Permission denied"), Fault.INFRASTRUCTURE),
    (FileNotFoundError(errno.ENOENT, "gone"), None),
    (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE")), None),
    (KeyError("caseType"), None),
])
def test_exceptions_are_classified_by_the_table(exc, kind):
    assert classify(exc) is kind


def _fault(code: str) -> zeep_errors.Fault:
    return zeep_errors.Fault("Personnummer 19121212-1212 finns inte", code=code)


@pytest.mark.parametrize("exc, expected", [
    (_fault("s:Server"), TargetUnavailable),
    (_fault("s:Client"), TargetRejected),
    (NotSoapReply(), TargetUnavailable),
    (zeep_errors.TransportError(status_code=503), TargetUnavailable),
    (zeep_errors.TransportError(status_code=429), TargetUnavailable),
    (zeep_errors.TransportError(status_code=404), TargetRejected),
    (zeep_errors.TransportError(status_code=401), CredentialsRefused),
    (requests.ConnectTimeout(), TargetUnavailable),
    (requests.ReadTimeout(), TargetInDoubt),
    (requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError())), TargetInDoubt),
    (requests.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused"))), TargetUnavailable),
])
def test_soap_answers_map_onto_the_table(exc, expected):
    mapped = map_soap_error("byggr_kumla", "SaveNewArende", exc)
    assert type(mapped) is expected
    assert "byggr_kumla.SaveNewArende" in str(mapped)


def test_a_fault_keeps_its_code_and_loses_the_personnummer_it_quotes():
    mapped = map_soap_error("byggr_kumla", "SaveNewArende", _fault("s:Client"))
    assert "s:Client" in str(mapped) and "finns inte" in str(mapped)
    assert "1212" not in str(mapped)
