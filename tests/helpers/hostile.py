"""Builders of hostile Open ePlatform exports, and a local server that records whether anything contacted it.

Every document starts from the bundled ``bygglov-person.xml`` (or ``bygglov-organisation.xml``) with one edit, so a
test changes exactly the thing it is about and everything else would be delivered.
"""

from __future__ import annotations

import base64
import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from brygga.settings import REPO_ROOT

SAMPLES = REPO_ROOT / "samples" / "open-eplatform"
PERSON = SAMPLES / "bygglov-person.xml"
ORGANISATION = SAMPLES / "bygglov-organisation.xml"
NS = b"http://www.oeplatform.org/version/2.0/schemas/flowinstance"


def person(sample: Path = PERSON) -> bytes:
    return sample.read_bytes()


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, f"{old!r} is not in the sample exactly once"
    return data.replace(old, new)


def with_prolog(prolog: bytes, data: bytes | None = None) -> bytes:
    """The sample with ``prolog`` (a DOCTYPE, a processing instruction) between the declaration and the root."""
    data = person() if data is None else data
    declaration, sep, rest = data.partition(b"?>")
    return declaration + sep + b"\n" + prolog + b"\n" + rest.lstrip()


def with_value(element: bytes, new_text: bytes, data: bytes | None = None, *, after: bytes = b"<Values>") -> bytes:
    """Replace the text of the first ``<element>`` after ``after`` (by default the applicant's, not the Header
    poster's) with raw XML ``new_text``."""
    data = person() if data is None else data
    start = data.index(b"<" + element + b">", data.index(after)) + len(element) + 2
    end = data.index(b"</" + element + b">", start)
    return data[:start] + new_text + data[end:]


def with_file(name: bytes, content: bytes, *, declared_size: int | None = None, data: bytes | None = None,
              file_id: bytes = b"8199") -> bytes:
    """The sample with one more attachment (its name as raw XML text, e.g. CDATA)."""
    data = person() if data is None else data
    size = len(content) if declared_size is None else declared_size
    extra = (b"<File><ID>" + file_id + b"</ID><Name>" + name + b"</Name><Size>" + str(size).encode()
             + b"</Size><EncodedData>" + base64.b64encode(content) + b"</EncodedData></File>")
    return replace_once(data, b"</ritningar>", extra + b"</ritningar>")


def latin1_declared(data: bytes | None = None) -> bytes:
    data = person() if data is None else data
    return replace_once(data, b'encoding="UTF-8"', b'encoding="ISO-8859-1"')


def zip_bomb(member_bytes: int, member: str = "[Content_Types].xml") -> bytes:
    """A small ZIP whose one member inflates to ``member_bytes`` zeros (deflate squeezes them ~1000:1).

    The member is named like the part FIDO's container signatures read, so identification would open it.
    """
    import io

    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open(member, "w", force_zip64=True) as out):
        block = bytes(1 << 20)
        for _ in range(member_bytes // len(block)):
            out.write(block)
    return buffer.getvalue()


@dataclass
class Listener:
    """A local HTTP server: ``url`` to point a hostile document at, ``contacted`` to prove nothing came."""

    url: str
    requests: list[str] = field(default_factory=list)
    connections: int = 0


@contextmanager
def listening() -> Iterator[Listener]:
    """Run a recording HTTP server for the block; afterwards ``connections`` counts every TCP connection made.

    No sleeps: the server is shut down (which waits for its loop to finish the request it is in), then any
    connection the kernel accepted but the loop never took is counted with a non-blocking ``accept``.
    """
    record = Listener(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            record.requests.append(self.path)
            body = b'<!ENTITY leak "fetched">'  # what an attacker's server would answer
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    class Server(http.server.HTTPServer):
        def get_request(self) -> tuple[socket.socket, object]:
            request = super().get_request()
            record.connections += 1
            return request

    server = Server(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    record.url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        thread.join()
        server.socket.setblocking(False)
        while True:
            try:
                leftover, _ = server.socket.accept()
            except BlockingIOError:
                break
            record.connections += 1
            leftover.close()
        server.server_close()
