"""Content-addressed storage for raw submissions and decoded attachments.

Files are named by their sha256 only. A name that came inside a message never becomes a path,
which closes the path-traversal hole that attachment and remote file names keep opening.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ContentStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("content id must be 64 lower-case hex characters (a sha256)")
        path = (self.root / sha256[:2] / sha256).resolve()
        if not path.is_relative_to(self.root):  # defence in depth; the regex already forbids it
            raise ValueError("content path escapes the store root")
        return path

    def put(self, data: bytes, sha256: str | None = None) -> tuple[str, Path]:
        """Store bytes under their sha256 and return it with the path. Writing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        if sha256 is not None and sha256 != digest:
            raise ValueError("content does not match its declared sha256")
        path = self.path_for(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a crash never leaves a half-written file under a valid hash.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return digest, path

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
