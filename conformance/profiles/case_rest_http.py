"""What the case-rest profile sees on the wire: every reply on the adapter's own session (a response hook), and raw
calls for the requests Brygga's adapter would never send (a body that is not JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from werkzeug.http import parse_options_header

from brygga_adapters.http import GuardedSession
from brygga_adapters.rest.calls import MAX_ANSWER_BYTES
from brygga_conformance.profiles.case_rest_contract import Exchange

CHUNK_BYTES = 64 * 1024


class ReplyWatch:
    """Keeps each reply to a request under the endpoint's path, while installed on the session (``watching``)."""

    def __init__(self, session: GuardedSession, base_path: str) -> None:
        self.session = session
        self.base_path = base_path.rstrip("/")
        self.seen: list[Exchange] = []

    @contextmanager
    def watching(self) -> Iterator[ReplyWatch]:
        # The adapter's sessions are shared per connection in the process: the hook goes when the run ends.
        self.session.hooks["response"].append(self._keep)
        try:
            yield self
        finally:
            self.session.hooks["response"].remove(self._keep)

    def take(self) -> list[Exchange]:
        """The replies seen since the last take."""
        seen, self.seen = self.seen, []
        return seen

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        path = urlsplit(response.request.url or "").path
        if path != self.base_path and not path.startswith(self.base_path + "/"):
            return
        self.seen.append(exchange(response, path[len(self.base_path):] or "/"))


def exchange(response: requests.Response, path: str) -> Exchange:
    media_type, _ = parse_options_header(response.headers.get("Content-Type", ""))
    return Exchange(method=(response.request.method or "").upper(), path=path, status=response.status_code,
                    media_type=media_type.lower(), body=_read(response), headers=dict(response.headers))


def _read(response: requests.Response) -> bytes:
    """The answer's body, read once with the adapter's size cap (one chunk more, so it still sees it is over)."""
    if response._content_consumed:  # requests' own marker of a body already read
        return response.content
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            break
    # The adapter reads the answer after this hook: requests serves a body already read from _content, so the
    # adapter gets these same bytes (and refuses them itself when they are over its cap).
    body = b"".join(chunks)
    response._content = body
    response._content_consumed = True
    return body


def send_raw(session: GuardedSession, method: str, url: str, *, data: bytes, content_type: str,
             timeout: tuple[float, float]) -> requests.Response:
    """One request as given, on the adapter's session (its credentials; once more with a new OAuth2 token after a
    401, as the adapter does); the answer whatever its status."""
    for renewed in (False, True):
        response = session.request(method, url, data=data, headers={"Content-Type": content_type},
                                   timeout=timeout, allow_redirects=False)
        if response.status_code == 401 and not renewed and session.renew_credentials(response):
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover
