"""A värmepump's 20 MB drawing reaches Ecos intact: streamed from disk into RegisterDocument (over libxml2's
10 MB text-node limit for one parse, so it cannot have gone through a whole-tree reply or request parse)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ecos_delivery_data import CONFIG

from brygga.plugins import StoredDocument
from brygga_adapters.ecos import EcosTarget

SIZE = 20 * 1024 * 1024


def _drawing(root: Path) -> StoredDocument:
    digest = hashlib.sha256()
    path = root / "drawing"
    with path.open("wb") as out:
        for _ in range(SIZE // (1024 * 1024)):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            out.write(chunk)
    return StoredDocument("Ritning borrhål A1.pdf", "application/pdf", SIZE, digest.hexdigest(), path)


def test_a_20_mb_drawing_arrives_with_the_same_sha256(ecos, connection, make_request, tmp_path):
    drawing = _drawing(tmp_path)

    receipt = EcosTarget(CONFIG, connection).deliver(make_request(documents=[drawing]))

    (document,) = ecos.app.case_by_number(receipt.external_ref).documents
    assert (document.size, document.sha256, document.filename) == (SIZE, drawing.sha256, "Ritning borrhål A1.pdf")
    (upload,) = [raw for raw in ecos.app.captured_requests if len(raw) > SIZE]
    assert len(upload) > SIZE * 4 // 3  # the base64 text of the whole file went in one request
