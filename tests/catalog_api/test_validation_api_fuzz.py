"""schemathesis against the validation API's own OpenAPI document (as the app serves it): generated requests to every
operation, valid and invalid, get no 5xx, and every answer conforms to the document (status, content type, body).
Derandomized, so a run is repeatable; few examples, so it stays quick.

One check is told what the document cannot say: which schema names exist (the kommun's case types are files) and
which documents show their schema. So a request the document allows may still name no schema (422) or send a
document whose schema cannot be told (400); test_validate_endpoint.py shows what is accepted."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from validation_api_client import LIMIT

from brygga.catalog.api import create_app

CONFIG = schemathesis.Config.from_dict({"operations": [{
    "include-operation-id": "validate",
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "422"]}},
}]})
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(max_body_bytes=LIMIT, max_json_bytes=LIMIT),
                                        config=CONFIG)


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_conforms_to_the_document(case: schemathesis.Case) -> None:
    case.call_and_validate()
