"""Open ePlatform exports of real size: a bundled sample with a drawing of any size added, written as a stream.

Building permits come with 10–50 MB drawings. Tests and benchmarks need such files without holding them in
memory to make them: ``write_export_with_drawing`` appends one ``File`` question to a sample FlowInstance and
base64-encodes the drawing from ``os.urandom`` chunk by chunk, line-wrapped at 76 characters the way Open
ePlatform's exports (and MIME) wrap it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from brygga.resources import resource

SAMPLE = resource("samples", "open-eplatform", "bygglov-person.xml")
_CHUNK = 57 * 1024 * 16  # a multiple of 57 bytes: each chunk encodes to whole 76-character lines
DRAWING_ID = "8199"


@dataclass(frozen=True)
class Drawing:
    name: str
    size: int
    sha256: str


def write_export_with_drawing(path: Path, size: int, *, sample: Path = SAMPLE, name: str = "Ritning.pdf",
                              flow_instance_id: str | None = None) -> Drawing:
    """Write ``sample`` with an extra attachment of ``size`` random bytes to ``path``; return its facts."""
    head, sep, tail = sample.read_bytes().partition(b"</Values>")
    if not sep:
        raise ValueError(f"{sample} has no </Values>")
    if flow_instance_id is not None:
        start, end = head.index(b"<FlowInstanceID>") + len(b"<FlowInstanceID>"), head.index(b"</FlowInstanceID>")
        head = head[:start] + flow_instance_id.encode() + head[end:]
    digest = hashlib.sha256()
    with path.open("wb") as out:
        out.write(head)
        out.write(f"<ritning><QueryID>81099</QueryID><File><ID>{DRAWING_ID}</ID><Name><![CDATA[{name}]]></Name>"
                  f"<Size>{size}</Size><EncodedData>".encode())
        left = size
        while left:
            chunk = os.urandom(min(_CHUNK, left))
            left -= len(chunk)
            digest.update(chunk)
            out.write(base64.encodebytes(chunk))
        out.write(b"</EncodedData></File></ritning>" + sep + tail)
    return Drawing(name=name, size=size, sha256=digest.hexdigest())
