"""Content-addressed storage for raw submissions and decoded attachments.

Files are named by their sha256 only. A name that came inside a message never becomes a path,
which closes the path-traversal hole that attachment and remote file names keep opening.

Everything is written as a stream: ``writer()`` hashes and counts as the chunks arrive, so a 50 MB drawing
is never held in memory whole.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from brygga.plugins import StoredDocument

_SHA256 = re.compile(r"[0-9a-f]{64}")
CHUNK = 1 << 20


class BlobWriter:
    """One blob on its way into the store: ``write`` chunks, then ``commit`` (or ``abort``).

    The bytes go to a temporary file beside their final place and are renamed under their sha256 only once
    complete, so a crash never leaves a half-written file under a valid hash.
    """

    def __init__(self, store: ContentStore) -> None:
        self._store = store
        self._hash = hashlib.sha256()
        self.size = 0
        store.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=store.root, prefix=".incoming-")
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)
        self._file.write(chunk)

    def commit(self) -> tuple[str, Path]:
        """Finish the blob; returns (sha256, path). The same bytes stored twice are one file."""
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            digest = self._hash.hexdigest()
            path = self._store.path_for(digest)
            if path.exists():
                self._tmp.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._tmp, path)
            return digest, path
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.abort()


class ContentStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, sha256: str) -> Path:
        # fullmatch: 64 hex characters and nothing else (match with $ would let a trailing newline through), so the
        # two parts joined below hold no separator and no "..": the path cannot leave the root, which was resolved
        # once in __init__. No resolve() per file: it cost a few lstat calls for every attachment on every step.
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise ValueError("content id must be 64 lower-case hex characters (a sha256)")
        return self.root / sha256[:2] / sha256

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def put(self, data: bytes, sha256: str | None = None) -> tuple[str, Path]:
        """Store bytes under their sha256 and return it with the path. Writing the same bytes twice is a no-op."""
        if sha256 is not None and sha256 != hashlib.sha256(data).hexdigest():
            raise ValueError("content does not match its declared sha256")
        with self.writer() as blob:
            blob.write(data)
            return blob.commit()

    def put_stream(self, reader: BinaryIO) -> tuple[str, Path, int]:
        """Copy a binary stream into the store in chunks; returns (sha256, path, size)."""
        with self.writer() as blob:
            for chunk in iter(lambda: reader.read(CHUNK), b""):
                blob.write(chunk)
            digest, path = blob.commit()
            return digest, path, blob.size

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def documents(self, attachments: list[dict[str, Any]]) -> list[StoredDocument]:
        """A canonical case's attachment records as documents in this store, for an adapter to send."""
        from brygga.plugins import StoredDocument

        return [StoredDocument(name=a["name"], media_type=a["mediaType"], size=a["size"], sha256=a["sha256"],
                               path=self.path_for(a["sha256"])) for a in attachments]
