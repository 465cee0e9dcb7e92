"""A generated drawing of real size (``--large-document MB``): the bundled samples' attachments are a few hundred
bytes, a building permit's drawings are 10-50 MB, and what breaks on those (a reply limit, a text-node limit, a
timeout) never shows with the small ones.

The drawing is a well-formed PDF of one A1 page whose image is noise: a header, an uncompressed RGB image of
pseudo-random bytes from a fixed seed (incompressible, so no compression on the way makes it small), and a trailer
with a correct cross-reference table. The same size gives the same bytes, hence the same sha256, on every machine.
It is written to the content store in chunks, never held in memory whole.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from brygga.plugins import StoredDocument
from brygga.storage import ContentStore

MEDIA_TYPE = "application/pdf"
MAX_MB = 100  # an upper bound a person can mean; a real drawing is 10-50 MB
SEED = 20261130
MIB = 1024 * 1024
WIDTH = 4096  # image pixels per row, RGB: a row is 12 KiB
ROW = WIDTH * 3
ROWS_PER_CHUNK = 64  # 768 KiB of noise at a time
A1 = (2384, 1684)  # the page in points, landscape


def name_for(mb: int) -> str:
    return f"conformance-drawing-{mb}mb.pdf"


def _objects(height: int) -> list[bytes]:
    """The PDF's objects but the image's bytes: catalog, pages, page, image (its dictionary), page contents."""
    width_pt, height_pt = A1
    contents = f"q {width_pt} 0 0 {height_pt} 0 0 cm /Im1 Do Q".encode()
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] /Resources << /XObject << /Im1 4 0 R "
        ">> >> /Contents 5 0 R >>".encode(),
        f"<< /Type /XObject /Subtype /Image /Width {WIDTH} /Height {height} /ColorSpace /DeviceRGB "
        f"/BitsPerComponent 8 /Length {WIDTH * height * 3} >>".encode(),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(contents), contents),
    ]


def pdf_chunks(mb: int) -> Iterator[bytes]:
    """The drawing of about ``mb`` MiB, in pieces. Its size is no multiple of 3, so a system that drops a last
    padded base64 group (ByggR's ``truncates-documents``) loses bytes of it, as of a real file."""
    height = max(1, mb * MIB // ROW)
    objects = _objects(height)
    header = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n% Brygga conformance kit: a generated drawing\n"
    offsets: list[int] = []
    written = len(header)
    yield header
    for number, body in enumerate(objects, start=1):
        offsets.append(written)
        if number == 4:  # the image: its dictionary, then the noise streamed row by row
            opening = b"4 0 obj\n%s\nstream\n" % body
            yield opening
            written += len(opening)
            rng = random.Random(SEED)
            for first in range(0, height, ROWS_PER_CHUNK):
                rows = rng.randbytes(ROW * min(ROWS_PER_CHUNK, height - first))
                yield rows
                written += len(rows)
            closing = b"\nendstream\nendobj\n"
        else:
            closing = b"%d 0 obj\n%s\nendobj\n" % (number, body)
        yield closing
        written += len(closing)
    xref = b"xref\n0 %d\n0000000000 65535 f \n%s" % (
        len(objects) + 1, b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, written)
    # A comment before the xref would move it; padding goes after the end-of-file marker's line instead.
    padding = b"" if (written + len(xref) + len(trailer)) % 3 else b"\n"
    yield xref + trailer + padding


def store_drawing(content: ContentStore, mb: int) -> StoredDocument:
    """The drawing of ``mb`` MiB in ``content`` (once: the store keeps one file per sha256)."""
    with content.writer() as blob:
        for chunk in pdf_chunks(mb):
            blob.write(chunk)
        sha256, path = blob.commit()
        return StoredDocument(name=name_for(mb), media_type=MEDIA_TYPE, size=blob.size, sha256=sha256, path=path)
