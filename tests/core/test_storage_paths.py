"""ContentStore.path_for joins the root and the hash without resolving; only a bare sha256 may become a path."""

import hashlib

import pytest

from brygga.storage import ContentStore


def test_a_sha256_with_a_trailing_newline_is_refused(tmp_path):
    # re.match with "$" accepts a final newline; the path is built lexically, so the id must be exactly 64 hex.
    with pytest.raises(ValueError):
        ContentStore(tmp_path).path_for("0" * 64 + "\n")


def test_the_path_is_under_the_resolved_root_without_touching_the_disk(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    store = ContentStore(tmp_path / "link")
    sha = hashlib.sha256(b"x").hexdigest()
    assert store.path_for(sha) == (tmp_path / "real").resolve() / sha[:2] / sha
    assert store.put(b"x")[1] == store.path_for(sha)
