"""A värmepump's 20 MB drawing reaches Ecos intact: streamed from disk into RegisterDocument (over libxml2's
10 MB text-node limit for one parse, so it cannot have gone through a whole-tree reply or request parse)."""

from __future__ import annotations

from ecos_delivery_data import CONFIG
from large_documents import random_drawing

from brygga_adapters.ecos import EcosTarget

SIZE = 20 * 1024 * 1024


def test_a_20_mb_drawing_arrives_with_the_same_sha256(ecos, connection, make_request, tmp_path):
    drawing = random_drawing(tmp_path, SIZE, "Ritning borrhål A1.pdf")

    receipt = EcosTarget(CONFIG, connection).deliver(make_request(documents=[drawing]))

    (document,) = ecos.app.case_by_number(receipt.external_ref).documents
    assert (document.size, document.sha256, document.filename) == (SIZE, drawing.sha256, "Ritning borrhål A1.pdf")
    (upload,) = [raw for raw in ecos.app.captured_requests if len(raw) > SIZE]
    assert len(upload) > SIZE * 4 // 3  # the base64 text of the whole file went in one request
