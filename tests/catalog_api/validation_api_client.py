"""Calls to the validation API under test, the same whichever way it is reached (TestClient or a real socket), and
the check of a problem+json answer."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests
from fastapi.testclient import TestClient

LIMIT = 64 * 1024  # small, so a test can cross it; a whole case or a sample XML is well under it


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Api:
    """GET and POST against the app, the same calls whichever way it is reached."""

    def __init__(self, how: str, client: TestClient | None = None, url: str | None = None) -> None:
        self.how, self._client, self._url = how, client, url
        self._session = requests.Session()

    def request(self, method: str, path: str, *, params: dict[str, str] | None = None, body: bytes | Iterable[bytes]
                | None = None, headers: dict[str, str] | None = None) -> Answer:
        if self._client is not None:
            answer = self._client.request(method, path, params=params, content=body, headers=headers)
        else:
            answer = self._session.request(method, f"{self._url}{path}", params=params, data=body, headers=headers,
                                           timeout=60)
        return Answer(answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.text)

    def get(self, path: str, **params: str) -> Answer:
        return self.request("GET", path, params=params or None)

    def post(self, body: bytes | Iterable[bytes], content_type: str | None = "application/json", *,
             headers: dict[str, str] | None = None, **params: str) -> Answer:
        sent = {**({"Content-Type": content_type} if content_type is not None else {}), **(headers or {})}
        return self.request("POST", "/validate", params=params or None, body=body, headers=sent)


def assert_problem(answer: Answer, status: int, *phrases: str) -> dict[str, Any]:
    """A problem+json answer of that status whose detail says each phrase."""
    assert answer.status == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "about:blank" and problem["status"] == status and problem["title"]
    for phrase in phrases:
        assert phrase in problem["detail"], problem["detail"]
    return problem
