"""A building permit's 50 MB drawing reaches ByggR intact (the simulator over real HTTP).

The request is about 70 MB of base64: over the simulator's old 64 MB cap and far over libxml2's 10 MB limit
for one text node. Takes a few seconds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from byggr_example_payload import example_payload_from_case

from brygga.plugins import StoredDocument
from brygga_adapters.byggr import ByggrTarget
from brygga_simulators.soap_server import MAX_REQUEST_BYTES

SIZE = 50 * 1024 * 1024


def _large_document(root: Path) -> StoredDocument:
    digest = hashlib.sha256()
    path = root / "drawing"
    with path.open("wb") as out:
        for _ in range(SIZE // (1024 * 1024)):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            out.write(chunk)
    return StoredDocument("Ritning A1.pdf", "application/pdf", SIZE, digest.hexdigest(), path)


def test_a_50_mb_document_arrives_with_the_same_sha256(
    byggr_sim, byggr_connection, canonical_case, make_request, tmp_path
):
    document = _large_document(tmp_path)
    request = make_request(example_payload_from_case(canonical_case), canonical_case, [document])

    receipt = ByggrTarget({}, byggr_connection).deliver(request)

    (handelse,) = byggr_sim.app.cases[receipt.external_ref].handelser
    (stored,) = handelse.documents
    assert (stored.size, stored.sha256) == (SIZE, document.sha256)
    (upload,) = [raw for raw in byggr_sim.app.captured_requests if len(raw) > SIZE]
    assert 64 * 1024 * 1024 < len(upload) < MAX_REQUEST_BYTES
