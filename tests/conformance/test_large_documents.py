"""Real-sized documents (``--large-document MB``): each sample carries a generated drawing of that size, and the
documents-intact check proves it arrives intact, read back through the contract, as it does the samples' own small
attachments. 12 MB is past what a reply parsed whole can hold (libxml2's 10 MB text node: a GetDocument reply of a
file over about 7 MB), so the SOAP profiles' read-back is shown to stream.

Each test has a run id of its own: its connections (and the clients the adapters cache for them) are its own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from pathlib import Path

import pytest
import requests
from lxml import etree

from brygga.canonical import validate_case
from brygga.errors import TargetRejected, TargetUnavailable
from brygga.plugins import StoredDocument
from brygga.storage import ContentStore
from brygga.xmlread import read_xml
from brygga_adapters.soap import SoapService
from brygga_conformance.drawing import MEDIA_TYPE, name_for, pdf_chunks, store_drawing
from brygga_conformance.endpoint import LOGIN_ENV, PASSWORD_ENV, Endpoint
from brygga_conformance.model import CaseResult
from brygga_conformance.runner import InvalidOption, RunReport, run_profile
from brygga_conformance.samples import SampleSet
from brygga_conformance.soap_documents import FileDigest, UnreadableFile, call_streamed, file_digest
from brygga_simulators import start_simulator

MB = 12
PERSON = "bygglov-person"  # three small documents of its own; the drawing is its fourth
GATLYKTA = "felanmalan-gatlykta"  # one photo of its own; the drawing is its second
VARMEPUMP = "varmepump-bergvarme"


@pytest.fixture(scope="module")
def drawing(tmp_path_factory: pytest.TempPathFactory) -> StoredDocument:
    return store_drawing(ContentStore(tmp_path_factory.mktemp("drawing")), MB)


def result(report: RunReport, check: str, sample: str | None) -> CaseResult:
    (found,) = [r for r in report.results if r.check.id == check and r.sample == sample]
    return found


def not_passed(report: RunReport) -> dict[tuple[str, str | None], str]:
    return {(r.check.id, r.sample): r.outcome for r in report.results if r.outcome != "passed"}


# --- the drawing ---------------------------------------------------------------------------------------------------


def test_the_drawing_is_a_pdf_of_the_size_asked_for_the_same_everywhere(drawing: StoredDocument,
                                                                        tmp_path: Path) -> None:
    data = drawing.path.read_bytes()
    assert (drawing.name, drawing.media_type) == (name_for(MB), MEDIA_TYPE) == ("conformance-drawing-12mb.pdf",
                                                                             "application/pdf")
    assert drawing.size == len(data) and drawing.sha256 == hashlib.sha256(data).hexdigest()
    assert MB * 1024 * 1024 - 12 * 1024 < drawing.size < MB * 1024 * 1024 + 1024  # the image, the PDF around it
    assert drawing.size % 3  # a last padded base64 group, for a system that drops one to lose
    assert data.startswith(b"%PDF-1.7\n") and data.rstrip().endswith(b"%%EOF")
    # The cross-reference table points at each object, and startxref at the table.
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF", data).group(1))
    assert data[start:start + 5] == b"xref\n"
    offsets = [int(offset) for offset in re.findall(rb"(\d{10}) 00000 n ", data[start:])]
    assert [data[offset:offset + 8] for offset in offsets] == [b"%d 0 obj\n" % n for n in range(1, 6)]
    # Incompressible: no compression on the way makes it small.
    assert len(zlib.compress(data[: 1024 * 1024], 6)) > 1024 * 1024 * 0.99
    # The same size, the same bytes: on every machine, in every run.
    assert store_drawing(ContentStore(tmp_path), MB).sha256 == drawing.sha256
    assert hashlib.sha256(b"".join(pdf_chunks(1))).hexdigest() != drawing.sha256


def test_each_sample_carries_the_drawing_as_its_last_document_and_the_case_stays_valid(
        drawing: StoredDocument, tmp_path: Path) -> None:
    loaded = SampleSet.load(tmp_path, [PERSON, GATLYKTA], large_document_mb=MB)
    samples = loaded.samples
    assert loaded.drawing is not None and loaded.drawing.sha256 == drawing.sha256
    for sample in samples:
        last = sample.documents[-1]
        assert last == loaded.drawing
        assert (last.name, last.size, last.sha256) == (drawing.name, drawing.size, drawing.sha256)
        assert last.path.is_file()
        assert sample.case["attachments"][-1]["sha256"] == drawing.sha256
        assert validate_case(sample.case) == []
    assert [len(s.documents) for s in samples] == [4, 2]
    without = SampleSet.load(tmp_path, [PERSON])
    assert without.drawing is None and without.samples[0].documents[-1].name == "Beskrivning.docx"


@pytest.mark.parametrize("mb", [-1, 101])
def test_a_size_out_of_range_is_refused_before_anything_is_sent(mb: int, tmp_path: Path) -> None:
    with pytest.raises(InvalidOption, match=rf"--large-document cannot be {mb}; allowed: 0 \(none\) to 100 MB"):
        run_profile("case-rest", Endpoint("http://127.0.0.1:9/"), workdir=tmp_path, large_document_mb=mb)


# --- the profiles, with the drawing ---------------------------------------------------------------------------------


def test_byggr_soap_reads_the_drawing_back_intact(drawing: StoredDocument, tmp_path: Path) -> None:
    with start_simulator("byggr") as sim:
        report = run_profile("byggr-soap", Endpoint(sim.url), workdir=tmp_path, samples=[PERSON],
                             run_id="large-byggr", large_document_mb=MB)
        (case,) = sim.app.cases.values()
        stored = [d.content for h in case.handelser for d in h.documents]

    assert report.ok, not_passed(report)
    assert hashlib.sha256(stored[-1]).hexdigest() == drawing.sha256  # what ByggR holds is the drawing
    notes = result(report, "documents-intact", PERSON).notes
    assert notes[0] == f"GetArende {case.dnr}: 1 handelse(r), 4 document(s)"
    assert notes[-1] == (f"document 4 of 4 of {PERSON} (application/pdf, {drawing.size} bytes, sha256 "
                         f"{drawing.sha256}): intact")
    assert f"sha256 {drawing.sha256}" in report.notes[-1]
    # The GetDocument replies were validated for reply-shape too, the drawing's among them.
    assert re.search(r"GetDocument\W+4\b", " ".join(result(report, "reply-shape", PERSON).notes))


def test_byggr_soap_finds_the_drawing_stored_short(drawing: StoredDocument, tmp_path: Path) -> None:
    with start_simulator("byggr", flaws=["truncates-documents"]) as sim:
        report = run_profile("byggr-soap", Endpoint(sim.url), workdir=tmp_path, samples=[PERSON],
                             run_id="large-byggr-short", large_document_mb=MB)
        (case,) = sim.app.cases.values()
        kept = [d for h in case.handelser for d in h.documents][-1]

    assert not_passed(report) == {("documents-intact", PERSON): "failed"}
    assert len(kept.content) == drawing.size - 1
    findings = result(report, "documents-intact", PERSON).findings
    assert findings[-1] == (f"document 4 of 4 of {PERSON} (application/pdf, {drawing.size} bytes, sha256 "
                            f"{drawing.sha256[:16]}…) came back changed: GetDocument of dokId {kept.dok_id} gave "
                            f"{drawing.size - 1} bytes, sha256 {hashlib.sha256(kept.content).hexdigest()[:16]}…")


def test_case_rest_lists_the_drawing_intact(drawing: StoredDocument, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    secret = secrets.token_urlsafe(16)
    monkeypatch.setenv(LOGIN_ENV, "brygga")
    monkeypatch.setenv(PASSWORD_ENV, secret)
    with start_simulator("work-order", clients=f"brygga:{secret}") as sim:
        report = run_profile("case-rest", Endpoint(sim.url), workdir=tmp_path, samples=[GATLYKTA],
                             run_id="large-rest", large_document_mb=MB)
        (order,) = sim.app.orders

    assert report.ok, not_passed(report)
    assert [(a["sha256"], a["size"]) for a in order["attachments"]][-1] == (drawing.sha256, drawing.size)
    assert result(report, "documents-intact", GATLYKTA).notes[-1] == (
        f"document 2 (application/pdf, {drawing.size} bytes, sha256 {drawing.sha256}): sha256 and size as sent")
    assert f"sha256 {drawing.sha256}" in report.notes[-1]


def test_ecos_soap_reads_the_drawing_back_intact(drawing: StoredDocument, tmp_path: Path) -> None:
    with start_simulator("ecos") as sim:
        report = run_profile("ecos-soap", Endpoint(sim.url), workdir=tmp_path, samples=[VARMEPUMP],
                             run_id="large-ecos", large_document_mb=MB)
        (case,) = sim.app.cases.values()

    assert report.ok, not_passed(report)
    assert [d.sha256 for d in case.documents][-1] == drawing.sha256
    assert result(report, "documents-intact", VARMEPUMP).notes[-1] == (
        f"GetDocument: document 2 of 2 of {VARMEPUMP} (sent: {drawing.size} bytes, sha256 {drawing.sha256[:12]}…) "
        "intact")


# --- the streamed read-back itself ----------------------------------------------------------------------------------


def test_get_document_is_read_as_a_stream_and_the_reply_log_sees_the_envelope_without_the_file(
        drawing: StoredDocument, tmp_path: Path) -> None:
    with start_simulator("byggr") as sim:
        run_profile("byggr-soap", Endpoint(sim.url), workdir=tmp_path, samples=[PERSON], run_id="large-stream",
                    large_document_mb=MB)
        (case,) = sim.app.cases.values()
        dok_id = [d for h in case.handelser for d in h.documents][-1].dok_id
        service = SoapService(Endpoint(sim.url, run_id="large-stream-read").connection())
        seen: list[requests.Response] = []
        service.transport.session.hooks["response"].append(lambda response, *args, **kwargs: seen.append(response))

        payload = call_streamed(service, "GetDocument", "filBuffer", documentId=dok_id, inkluderaFil=True)
        (buffer,) = payload.iter("{*}filBuffer")
        assert file_digest(buffer) == FileDigest(drawing.sha256, drawing.size)
        # What a reply log on the session finds: the whole envelope but the file's text, small.
        (reply,) = seen
        shown = etree.fromstring(reply.content)
        (kept,) = shown.iter("{*}filBuffer")
        assert kept.text is None and dict(kept.attrib) == {} and len(reply.content) < 4096
        assert etree.QName(shown.find("{*}Body")[0]).localname == "GetDocumentResponse"

        # Faults and answers that are no SOAP are Brygga's errors, as call_raw raises them.
        sim.app.faults.set([{"operation": "GetDocument", "action": "soap_fault", "faultcode": "Client",
                             "faultstring": "no such document"}])
        with pytest.raises(TargetRejected, match="GetDocument"):
            call_streamed(service, "GetDocument", "filBuffer", documentId=dok_id, inkluderaFil=True)
        sim.app.faults.set([{"operation": "GetDocument", "action": "html_200"}])
        with pytest.raises(TargetUnavailable, match="the answer is not SOAP"):
            call_streamed(service, "GetDocument", "filBuffer", documentId=dok_id, inkluderaFil=True)
        assert [r.status_code for r in seen] == [200, 500, 200]


@pytest.mark.parametrize(("text", "reason"), [
    ("bm90IGEgZHJhd2luZw=!", "the file is not valid base64"),
    ("", "the file is empty"),
])
def test_a_file_element_without_a_usable_file_says_why(text: str, reason: str) -> None:
    """As call_streamed reads a reply (brygga.xmlread's decoder), then file_digest."""
    reply = f"<GetDocumentResponse><fil><filBuffer>{text}</filBuffer></fil></GetDocumentResponse>".encode()
    (buffer,) = read_xml(reply, binary_names={"filBuffer"}).iter("filBuffer")
    with pytest.raises(UnreadableFile) as refused:
        file_digest(buffer)
    assert str(refused.value) == reason
