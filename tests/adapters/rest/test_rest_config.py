"""RestTarget's route config: refused before anything runs, naming the path and the rule."""

from __future__ import annotations

import pytest
from rest_workorder import WORK_ORDER_CONFIG, connection_to, delivery

from brygga.errors import ConfigError
from brygga.plugins import configure
from brygga_adapters.rest import CONFIG_SPEC, RestTarget

SIMPLE = {"create": {"path": "/cases"}, "reference": {"json": "/id"}}


@pytest.fixture
def connection(recorder):
    _app, running = recorder
    return connection_to(running, "api", auth="basic", token_url=None)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        # A payload field is never a placeholder (SSRF rule): only what the adapter fills itself.
        ({**SIMPLE, "create": {"path": "/cases/{title}"}}, r"create/path: placeholder \{title\} is not allowed"),
        ({**SIMPLE, "create": {"path": "/cases/{reference}"}}, r"create/path: placeholder \{reference\}"),
        ({**SIMPLE, "search": {"path": "/c", "query": {"q": "{description}"}, "reference": "/id"}},
         r"search/query/q: placeholder \{description\}"),
        ({**SIMPLE, "amend": {"path": "/cases/{reference/notes"}}, r"amend/path: unbalanced braces"),
        ({**SIMPLE, "attachments": {"mode": "upload"}}, r"attachments: mode upload needs 'path'"),
        ({**SIMPLE, "attachments": {"mode": "embedded", "items": "/a"}}, r"mode embedded needs 'content_field'"),
        ({**SIMPLE, "attachments": {"mode": "none", "list": "/a"}}, r"attachments/list: only for mode upload"),
    ],
)
def test_placeholders_and_modes_are_checked(connection, config, message):
    with pytest.raises(ConfigError, match=message):
        RestTarget(config, connection)


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"reference": {"json": "/id"}}, "config: 'create' is a required property"),
        ({**SIMPLE, "create": {"path": "https://elsewhere.example/cases"}}, "config/create/path"),
        ({**SIMPLE, "create": {"path": "/cases/../admin"}}, "config/create/path"),
        ({**SIMPLE, "create": {"path": "/cases?x=1"}}, "config/create/path"),
        ({**SIMPLE, "reference": {"json": "id"}}, "config/reference/json"),
        ({**SIMPLE, "path_values": {"reference": "x"}}, "config/path_values"),
        ({**SIMPLE, "token": "s3cret"}, "config: Additional properties"),
    ],
)
def test_the_config_shape_is_checked(connection, config, path):
    with pytest.raises(ConfigError, match=path.replace("(", r"\(")):
        RestTarget(config, connection)


def test_path_values_fill_paths_url_quoted(recorder):
    app, running = recorder
    config = {**SIMPLE, "create": {"path": "/kommun/{kommun}/cases"}, "path_values": {"kommun": "Örebro län"}}

    RestTarget(config, connection_to(running, "api", auth="basic", token_url=None)).deliver(delivery())

    assert app.seen[0].path == "/kommun/Örebro län/cases"  # sent as %C3%96rebro%20l%C3%A4n, decoded by the server


def test_a_target_needs_a_connection():
    with pytest.raises(ConfigError, match="rest target needs a connection"):
        RestTarget(SIMPLE, None)


def test_defaults_are_filled_and_every_key_is_described():
    config = configure("rest", CONFIG_SPEC, dict(WORK_ORDER_CONFIG))
    assert config["idempotency_header"] == "Idempotency-Key"
    assert config["path_values"] == {}
    assert all("description" in spec for spec in CONFIG_SPEC["properties"].values())


def test_preflight_wants_a_json_object():
    assert RestTarget.preflight(SIMPLE, {}, None) == [
        "rest: the outbound mapping's output must be a JSON object (rule: payload)"
    ]
    assert RestTarget.preflight(SIMPLE, {}, {"a": 1}) == []
