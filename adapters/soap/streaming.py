"""Sending a file from disk as an ``xs:base64Binary`` value without holding it in memory.

zeep base64-encodes ``bytes`` values into the envelope, and the envelope is then serialised and posted
whole: a 50 MB document costs several copies of itself in memory. Instead the caller passes a placeholder
(``SoapService.file_value(path, size)``) where zeep expects the bytes. zeep writes the placeholder's base64
text, a unique token; the transport then splits the serialised envelope at each token and posts a body that
streams the file, base64-encoded chunk by chunk, with an exact Content-Length.

Placeholders belong to the thread that made them and live until the end of that thread's next call; a
token from anywhere else in an envelope is refused rather than sent as data.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from brygga.errors import TargetRejected

# A multiple of 3, so every chunk but the last encodes to base64 without padding and the pieces concatenate.
CHUNK_BYTES = 3 * 64 * 1024
_TOKEN_PREFIX = b"BryggaFileValue"
# 15 + 32 + 1 = 48 base64 characters: whole 4-character groups, so decode/encode gives the token back exactly.
TOKEN_PATTERN = re.compile(re.escape(_TOKEN_PREFIX) + rb"[0-9a-f]{32}A")


class FileValueError(TargetRejected):
    """A file value cannot be sent as promised: wrong size or digest, or a placeholder from another call."""


def encoded_length(size: int) -> int:
    """Length of the base64 text of ``size`` bytes, padding included."""
    return 4 * ((size + 2) // 3)


@dataclass(frozen=True)
class FileValue:
    token: bytes  # the base64 text zeep writes for the placeholder
    path: Path
    size: int
    sha256: str | None = None

    @classmethod
    def create(cls, path: Path, size: int, sha256: str | None = None) -> FileValue:
        value = cls(_TOKEN_PREFIX + uuid.uuid4().hex.encode() + b"A", Path(path), size, sha256)
        value.check_size()
        return value

    @property
    def placeholder(self) -> bytes:
        """What the caller hands to zeep; zeep's base64 of it is ``token``."""
        return base64.b64decode(self.token)

    def check_size(self) -> None:
        # Messages say what is wrong, not which file: upload names and paths may carry personal data.
        try:
            actual = self.path.stat().st_size if self.path.is_file() else None
        except OSError:
            actual = None
        if actual is None:
            raise FileValueError("file value: the file cannot be read")
        if self.size < 0 or actual != self.size:
            raise FileValueError("file value: the file's size differs from the size given")

    def encoded_chunks(self) -> Iterator[bytes]:
        """The file as base64, chunk by chunk. The last chunk is held back until size and digest are proven,
        so a file that changed never reaches the target complete: the request breaks off instead."""
        digest = hashlib.sha256() if self.sha256 else None
        total = 0
        held: bytes | None = None
        with self.path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                total += len(chunk)
                if total > self.size:
                    break
                if digest is not None:
                    digest.update(chunk)
                if held is not None:
                    yield held
                held = base64.b64encode(chunk)
        if total != self.size:
            raise FileValueError("file value: the file changed size while it was being sent")
        if digest is not None and digest.hexdigest() != (self.sha256 or "").lower():
            raise FileValueError("file value: the file's sha256 differs from the one given")
        if held is not None:
            yield held


class PendingFileValues:
    """The file values each thread made for its next call. A cached service is shared between threads, so
    one thread's placeholders must never be matched in another thread's envelope."""

    def __init__(self) -> None:
        self._local = threading.local()

    def add(self, value: FileValue) -> None:
        self._mine()[value.token] = value

    def take(self) -> dict[bytes, FileValue]:
        """This thread's file values, forgetting them: each is for one call only."""
        pending = self._mine()
        self._local.pending = {}
        return pending

    def discard(self) -> None:
        self._local.pending = {}

    def _mine(self) -> dict[bytes, FileValue]:
        pending = getattr(self._local, "pending", None)
        if pending is None:
            pending = self._local.pending = {}
        return pending


def split_message(message: bytes, pending: dict[bytes, FileValue]) -> list[bytes | FileValue]:
    """The serialised envelope cut at each placeholder token: bytes and file values, in order."""
    parts: list[bytes | FileValue] = []
    position = 0
    for match in TOKEN_PATTERN.finditer(message):
        value = pending.get(match.group())
        if value is None:
            raise FileValueError(
                "file value: the message holds a placeholder that was not made for this call "
                "(made in another call or thread, or already sent)"
            )
        value.check_size()
        parts += [message[position : match.start()], value]
        position = match.end()
    parts.append(message[position:])
    return parts


class StreamedBody:
    """A request body that requests sends with a Content-Length (it has ``__len__``) and reads by iterating."""

    def __init__(self, parts: list[bytes | FileValue]) -> None:
        self.parts = parts

    def __len__(self) -> int:
        return sum(len(part) if isinstance(part, bytes) else encoded_length(part.size) for part in self.parts)

    def __iter__(self) -> Iterator[bytes]:
        for part in self.parts:
            if isinstance(part, bytes):
                if part:
                    yield part
            else:
                yield from part.encoded_chunks()
