"""A building permit's 50 MB drawing reaches ByggR intact (the simulator over real HTTP).

The request is about 70 MB of base64: over the simulator's old 64 MB cap and far over libxml2's 10 MB limit
for one text node. Takes a few seconds.
"""

from __future__ import annotations

from byggr_example_payload import example_payload_from_case
from large_documents import random_drawing

from brygga_adapters.byggr import ByggrTarget
from brygga_simulators.soap_server import MAX_REQUEST_BYTES

SIZE = 50 * 1024 * 1024


def test_a_50_mb_document_arrives_with_the_same_sha256(
    byggr_sim, byggr_connection, canonical_case, make_request, tmp_path
):
    document = random_drawing(tmp_path, SIZE, "Ritning A1.pdf")
    request = make_request(example_payload_from_case(canonical_case), canonical_case, [document])

    receipt = ByggrTarget({}, byggr_connection).deliver(request)

    (handelse,) = byggr_sim.app.cases[receipt.external_ref].handelser
    (stored,) = handelse.documents
    assert (stored.size, stored.sha256) == (SIZE, document.sha256)
    (upload,) = [raw for raw in byggr_sim.app.captured_requests if len(raw) > SIZE]
    assert 64 * 1024 * 1024 < len(upload) < MAX_REQUEST_BYTES
