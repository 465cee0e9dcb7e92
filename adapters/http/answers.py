"""Reading an HTTP answer's body with a size cap: a streamed ``requests`` answer is read in chunks and given up on
once it grows past the cap, so a runaway or hostile target cannot fill the memory. Each caller keeps its own error
classes and messages: ``too_big`` makes the error for an answer over the cap, ``broken`` the one for an answer that
broke off mid-read."""

from __future__ import annotations

from collections.abc import Callable

import requests

DEFAULT_CHUNK_BYTES = 64 * 1024


def read_capped(
    response: requests.Response,
    cap: int,
    *,
    too_big: Callable[[], Exception],
    broken: Callable[[requests.RequestException], Exception],
    chunk_size: int = DEFAULT_CHUNK_BYTES,
) -> bytes:
    """The body of a ``stream=True`` answer, at most ``cap`` bytes; raises ``too_big()`` beyond that and
    ``broken(exc)`` (from None) when the connection fails mid-read."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=chunk_size):
            size += len(chunk)
            if size > cap:
                raise too_big()
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise broken(exc) from None
    return b"".join(chunks)
