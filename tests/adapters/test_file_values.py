"""Streamed file values: a document sent from disk as xs:base64Binary arrives byte-identical, with an exact
Content-Length, and placeholders never outlive their call or cross threads."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from byggr_example_payload import example_payload_from_case
from echo_service import EchoApp
from tls_helpers import serve_app
from zeep import xsd

from brygga.errors import TargetRejected
from brygga_adapters.byggr import ByggrTarget
from brygga_adapters.soap import FileValueError, soap_service
from brygga_adapters.soap.streaming import CHUNK_BYTES, FileValue, StreamedBody, encoded_length


def _file(folder: Path, size: int, name: str = "document.bin") -> Path:
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES + 2])
def test_chunks_concatenate_to_the_files_base64(tmp_path, size):
    path = _file(tmp_path, size)
    value = FileValue.create(path, size)
    body = StreamedBody([b"<a>", value, b"</a>"])

    sent = b"".join(body)

    assert sent == b"<a>" + base64.b64encode(path.read_bytes()) + b"</a>"
    assert len(body) == len(sent) and encoded_length(size) == len(base64.b64encode(path.read_bytes()))


def test_placeholder_is_what_zeep_turns_into_the_token(tmp_path):
    value = FileValue.create(_file(tmp_path, 10), 10)

    assert base64.b64encode(value.placeholder) == value.token


def test_a_size_that_does_not_match_the_file_is_refused_at_once(tmp_path):
    with pytest.raises(FileValueError, match="size differs"):
        FileValue.create(_file(tmp_path, 10), 11)
    with pytest.raises(FileValueError, match="cannot be read"):
        FileValue.create(tmp_path / "missing", 0)


def test_a_digest_mismatch_stops_before_the_files_last_chunk(tmp_path):
    size = 2 * CHUNK_BYTES + 7
    value = FileValue.create(_file(tmp_path, size), size, sha256="0" * 64)
    yielded: list[bytes] = []

    with pytest.raises(FileValueError, match="sha256 differs"):
        for chunk in value.encoded_chunks():
            yielded.append(chunk)
    assert len(b"".join(yielded)) == encoded_length(2 * CHUNK_BYTES)  # the target never sees the whole file


# --- against the ByggR simulator --------------------------------------------------------------------


def _new_case(byggr_connection, canonical_case, make_request) -> str:
    target = ByggrTarget({}, byggr_connection)
    return target.deliver(make_request(example_payload_from_case(canonical_case), canonical_case, [])).external_ref


def _save_handelse(service, dnr: str, name: str, fil_buffer: bytes):
    handling = {
        "handlingId": 0,
        "typ": "BIL",
        "status": "Inkommen",
        "handlingDatum": date.today(),
        "anteckning": name,
        "makulerad": False,
        "dokument": {"namn": name, "fil": {"filBuffer": fil_buffer, "filAndelse": "bin"}},
    }
    return service.call(
        "SaveNewHandelse",
        message={
            "Dnr": dnr,
            "HandlaggarSign": None,
            "Handelse": {
                "handelseId": 0,
                "riktning": "In",
                "rubrik": "Handlingar",
                "startDatum": datetime.now().astimezone(),
                "anteckning": "streamed",
                "handelsetyp": "ANSÖKAN",
                "sekretess": False,
                "makulerad": False,
                "arbetsmaterial": False,
            },
            "Handlingar": {"handling": [handling]},
            "BesvaradHandelseId": xsd.Nil,
            "AnkomststamplaHandlingar": True,
            "AutoGenereraBeslutNr": False,
        },
    )


def _stored_documents(byggr_sim, dnr: str) -> dict[str, bytes]:
    return {d.name: d.content for h in byggr_sim.app.cases[dnr].handelser for d in h.documents}


def test_a_streamed_document_arrives_byte_identical(
    byggr_sim, byggr_connection, canonical_case, make_request, tmp_path
):
    dnr = _new_case(byggr_connection, canonical_case, make_request)
    size = 3 * 1024 * 1024 + 1  # several chunks and a partial last group
    path = _file(tmp_path, size)
    service = soap_service(byggr_connection)
    sent_before = len(byggr_sim.app.captured_requests)

    placeholder = service.file_value(path, size, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    _save_handelse(service, dnr, "ritning.bin", placeholder)

    assert _stored_documents(byggr_sim, dnr)["ritning.bin"] == path.read_bytes()
    raw = byggr_sim.app.captured_requests[sent_before]
    assert base64.b64encode(path.read_bytes()) in raw and placeholder not in raw
    assert service.transport.file_values.take() == {}  # nothing left for a later call


def test_streamed_and_plain_documents_in_one_envelope(
    byggr_sim, byggr_connection, canonical_case, make_request, tmp_path
):
    dnr = _new_case(byggr_connection, canonical_case, make_request)
    service = soap_service(byggr_connection)
    streamed = _file(tmp_path, 1000, "a.bin")
    _save_handelse(service, dnr, "a.bin", service.file_value(streamed, 1000))
    _save_handelse(service, dnr, "b.bin", b"plain bytes")

    assert _stored_documents(byggr_sim, dnr) == {"a.bin": streamed.read_bytes(), "b.bin": b"plain bytes"}


def test_a_file_changed_while_sending_never_arrives_complete(
    byggr_sim, byggr_connection, canonical_case, make_request, tmp_path
):
    dnr = _new_case(byggr_connection, canonical_case, make_request)
    path = _file(tmp_path, 1000)
    service = soap_service(byggr_connection)
    placeholder = service.file_value(path, 1000, sha256="0" * 64)  # as if the file changed after it was checked

    with pytest.raises(FileValueError, match="sha256 differs"):
        _save_handelse(service, dnr, "x.bin", placeholder)
    assert _stored_documents(byggr_sim, dnr) == {}


def test_a_placeholder_from_another_thread_is_refused_and_nothing_is_sent(
    byggr_sim, byggr_connection, canonical_case, make_request, tmp_path
):
    dnr = _new_case(byggr_connection, canonical_case, make_request)
    service = soap_service(byggr_connection)
    path = _file(tmp_path, 100)
    made: list[bytes] = []
    maker = threading.Thread(target=lambda: made.append(service.file_value(path, 100)))
    maker.start()
    maker.join()
    sent_before = len(byggr_sim.app.captured_requests)

    with pytest.raises(FileValueError, match="not made for this call"):
        _save_handelse(service, dnr, "x.bin", made[0])
    assert len(byggr_sim.app.captured_requests) == sent_before


def test_a_placeholder_does_not_outlive_its_call(byggr_sim, byggr_connection, canonical_case, make_request, tmp_path):
    dnr = _new_case(byggr_connection, canonical_case, make_request)
    service = soap_service(byggr_connection)
    path = _file(tmp_path, 100)
    placeholder = service.file_value(path, 100)
    with pytest.raises(TargetRejected):  # a call that fails before sending still ends the placeholder's life
        service.call("GetArende", no_such_argument=1)
    sent_before = len(byggr_sim.app.captured_requests)

    with pytest.raises(FileValueError, match="not made for this call"):
        _save_handelse(service, dnr, "x.bin", placeholder)
    assert len(byggr_sim.app.captured_requests) == sent_before


def test_streamed_body_goes_with_an_exact_content_length_over_tls(tmp_path):
    from tls_helpers import make_certificates

    from brygga.connections import Connection
    from brygga_adapters.soap import SoapService

    certificates = make_certificates(tmp_path / "tls")
    app = EchoApp("http://localhost:1/echo")
    size = CHUNK_BYTES * 2 + 5
    path = _file(tmp_path, size)
    with serve_app(app, certificates) as server:
        connection = Connection.from_uri(
            "echo", f"https://localhost:{server.port}/echo?ca_bundle={certificates.ca_file}"
        )
        service = SoapService(connection)
        answer = service.call("Echo", text="doc", data=service.file_value(path, size))

    [post] = app.posts
    assert answer == f"doc:{hashlib.sha256(path.read_bytes()).hexdigest()}"
    assert post.chunked is False and post.content_length is not None
    assert post.content_length > encoded_length(size)  # the envelope around the streamed value
