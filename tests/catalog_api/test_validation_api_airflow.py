"""The validation API in a real `airflow api-server`, mounted by Brygga's plugin at /brygga/validation: it answers
without Airflow's login (public schemas, nothing kept), its links carry the mount's prefix, refusals are still its
own problems, and the OpenAPI document it serves there is the published one with the prefix as its server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from airflow_api_server import ApiServer, User, airflow_api_server

from brygga.catalog import resolve_schema
from brygga.catalog.api import OPENAPI_PATH
from brygga.catalog.examples import EXAMPLES_DIR
from brygga.settings import REPO_ROOT
from brygga_airflow.plugin import VALIDATION_URL_PREFIX

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    tmp = tmp_path_factory.mktemp("validation-api-airflow")
    with airflow_api_server(tmp, [User("viewer", "viewer", "viewer-password")],
                            {"BRYGGA_HOME": str(tmp / "brygga")}) as running:
        yield running


def _api(server: ApiServer) -> str:
    return f"{server.url}{VALIDATION_URL_PREFIX}"


def test_the_schemas_are_listed_without_a_login_and_their_links_carry_the_prefix(server: ApiServer):
    answer = requests.get(f"{_api(server)}/schemas", timeout=60)
    assert answer.status_code == 200, answer.text
    listed = {item["spec"]: item for item in answer.json()["schemas"]}
    bygglov = listed[resolve_schema("bygglov").spec]
    assert bygglov["schema_url"] == f"{VALIDATION_URL_PREFIX}/schemas/bygglov?version={bygglov['version']}"
    fetched = requests.get(f"{server.url}{bygglov['schema_url']}", timeout=60)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "application/schema+json"
    assert fetched.json()["$id"] == bygglov["id"]
    examples = requests.get(f"{server.url}{bygglov['examples_url']}", timeout=60).json()
    assert {e["name"] for e in examples["valid"]} >= {"bygglov-person"}


def test_a_payload_is_validated_and_a_refusal_is_the_apps_problem(server: ApiServer):
    case = (EXAMPLES_DIR / "bygglov-person.json").read_bytes()
    answer = requests.post(f"{_api(server)}/validate", params={"schema": "bygglov", "lang": "sv"}, data=case,
                           headers={"Content-Type": "application/json"}, timeout=60)
    assert answer.status_code == 200 and answer.json() == {"valid": True, "schema": resolve_schema("bygglov").spec,
                                                            "problems": [], "total": 0, "truncated": False}
    refused = requests.post(f"{_api(server)}/validate", data=case, headers={"Content-Type": "text/plain"},
                            timeout=60)
    assert refused.status_code == 415 and refused.headers["content-type"] == "application/problem+json"
    assert "application/xml or text/xml" in refused.json()["detail"]


def test_the_served_openapi_document_is_the_published_one_under_the_prefix(server: ApiServer):
    served = requests.get(f"{_api(server)}/openapi.json", timeout=60).json()
    published = json.loads(Path(REPO_ROOT / OPENAPI_PATH).read_text(encoding="utf-8"))
    assert served.pop("servers") == [{"url": VALIDATION_URL_PREFIX}]
    assert served == published
