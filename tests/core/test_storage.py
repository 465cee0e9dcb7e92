import hashlib

import pytest

from brygga.storage import ContentStore


def test_put_is_content_addressed_and_idempotent(tmp_path):
    store = ContentStore(tmp_path)
    sha, path = store.put(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest()
    assert store.put(b"hello") == (sha, path)
    assert store.get(sha) == b"hello"
    assert path.parent.parent == tmp_path.resolve()


def test_declared_hash_must_match(tmp_path):
    with pytest.raises(ValueError, match="does not match"):
        ContentStore(tmp_path).put(b"hello", "0" * 64)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 64, "abc", "0" * 63 + "/"])
def test_ids_that_are_not_sha256_never_become_paths(tmp_path, bad):
    with pytest.raises(ValueError):
        ContentStore(tmp_path).path_for(bad)
