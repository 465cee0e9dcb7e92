"""PropertyRegisterLookup against the property register simulator over real sockets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import jsonschema
import pytest

from brygga.connections import Connection
from brygga.errors import ConfigError, CredentialsRefused, TargetRejected, TargetUnavailable
from brygga.plugins import PropertyRecord, PropertyRegister, adapter_class
from brygga_adapters.property_register import PropertyRegisterLookup, clear_caches
from brygga_adapters.property_register.answer import AnswerShape, hits, pick
from brygga_adapters.property_register.cache import AnswerCache
from brygga_simulators import RunningSimulator, start_simulator

STENEN = PropertyRecord("KUMLA STENEN 1:23", 22044332, "909a6a63-5f3b-90ec-e040-ed8f66444c3f")
Connect = Callable[..., Connection]


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # Sessions and answers are per process; each test talks to a simulator on a new port.
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def register() -> Iterator[RunningSimulator]:
    with start_simulator("property-register", basic_auth="brygga:s3cret") as running:
        yield running


@pytest.fixture
def lookup(register: RunningSimulator, connect: Connect) -> PropertyRegisterLookup:
    return PropertyRegisterLookup({}, connect(register, "register-kumla"))


def _searches(register: RunningSimulator) -> list[dict[str, list[str]]]:
    return [r.query for r in register.app.recorded if r.path.endswith("/fastigheter")]


# --- contract ----------------------------------------------------------------------------------------------


def test_found_by_entry_point_and_spec_is_valid(lookup):
    assert adapter_class("property-register") is PropertyRegisterLookup
    assert isinstance(lookup, PropertyRegister)
    jsonschema.Draft202012Validator.check_schema(PropertyRegisterLookup.config_spec)
    assert not hasattr(PropertyRegisterLookup, "preflight")  # nothing in a case it could check without I/O


def test_needs_a_connection():
    with pytest.raises(ConfigError, match="needs a connection"):
        PropertyRegisterLookup({}, None)


@pytest.mark.parametrize(
    "config, rule",
    [
        ({"path": "/../admin"}, "pattern"),
        ({"path": "https://elsewhere.example/x"}, "pattern"),
        ({"path": "/fastigheter?x=1"}, "pattern"),
        ({"cache_seconds": -1}, "minimum"),
        ({"fastighetsnyckel_field": "fnr[0]"}, "pattern"),
        ({"url": "https://elsewhere.example"}, "additionalProperties"),
    ],
)
def test_config_is_checked_before_anything_runs(register, connect, config, rule):
    with pytest.raises(ConfigError, match=f"rule: {rule}"):
        PropertyRegisterLookup(config, connect(register, "register-kumla"))
    assert register.app.recorded == []


def test_fixed_query_may_not_set_the_designation_parameter(register, connect):
    with pytest.raises(ConfigError, match="fixed_query"):
        PropertyRegisterLookup({"fixed_query": {"beteckning": "x"}}, connect(register, "register-kumla"))


# --- answers -----------------------------------------------------------------------------------------------


def test_found(lookup, register):
    assert lookup.lookup("KUMLA STENEN 1:23") == STENEN
    assert register.app.recorded[-1].auth_user == "brygga"


def test_case_and_spacing_are_normalised_before_asking(lookup, register):
    assert lookup.lookup("  kumla   stenen 1:23 ") == STENEN
    assert _searches(register) == [{"beteckning": ["KUMLA STENEN 1:23"]}]


def test_the_exact_match_wins_over_prefix_hits(lookup):
    # The register's "starts with" search answers both 1:2 and 1:23.
    record = lookup.lookup("KUMLA STENEN 1:2")

    assert record is not None and record.fastighetsnyckel == 22044301


def test_unknown_unit_is_none(lookup):
    assert lookup.lookup("KUMLA OKÄND 9:99") is None


def test_only_other_units_matching_is_none(lookup):
    assert lookup.lookup("KUMLA STENEN 1") is None  # hits 1:2 and 1:23, neither is the unit asked for


def test_404_is_no_such_unit(connect):
    with start_simulator("property-register", not_found="404") as register:
        assert PropertyRegisterLookup({}, connect(register, "register")).lookup("KUMLA OKÄND 9:99") is None
        assert register.app.recorded[-1].status == 404


def test_ambiguous_answer_is_rejected_without_the_designation(lookup):
    with pytest.raises(TargetRejected, match="ambiguous") as raised:
        lookup.lookup("SUNDSVALL NORRMALM 1:1")

    assert "NORRMALM" not in str(raised.value)
    assert "property-register register-kumla.lookup" in str(raised.value)


def test_fixed_query_narrows_the_search(register, connect):
    config = {"fixed_query": {"kommunkod": "2281", "status": "gällande"}}
    record = PropertyRegisterLookup(config, connect(register, "register-sundsvall")).lookup("SUNDSVALL NORRMALM 1:1")

    assert record == PropertyRecord("SUNDSVALL NORRMALM 1:1", 20110011, "5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e")
    assert _searches(register)[-1] == {
        "kommunkod": ["2281"],
        "status": ["gällande"],
        "beteckning": ["SUNDSVALL NORRMALM 1:1"],
    }


def test_a_unit_without_object_identity(lookup):
    assert lookup.lookup("SUNDSVALL SKÖNSMON S:3") == PropertyRecord("SUNDSVALL SKÖNSMON S:3", 20133003, None)


def test_another_registers_shape_is_configuration_only(connect):
    sim = start_simulator(
        "property-register", path="/gis/api", resource="/sok", query_parameter="fastighetsbeteckning"
    )
    with sim as register:
        config = {"path": "/sok", "query_parameter": "fastighetsbeteckning"}
        assert PropertyRegisterLookup(config, connect(register, "gis")).lookup("KUMLA STENEN 1:23") == STENEN
        assert register.app.recorded[-1].path == "/gis/api/sok"


def test_a_wrong_path_reads_as_not_found(lookup, register, connect):
    # Documented limit: a register's 404 means "no such unit", so check a new config with a known unit.
    wrong = PropertyRegisterLookup({"path": "/fastighet"}, connect(register, "register-kumla"))

    assert wrong.lookup("KUMLA STENEN 1:23") is None


# --- auth and transport rules ------------------------------------------------------------------------------


def test_auth_is_required(register):
    anonymous = Connection.from_uri("register", f"{register.url}?allow_http=true")
    wrong = Connection.from_uri("register", f"{register.url.replace('//', '//brygga:wrong@')}?allow_http=true")

    for connection in (anonymous, wrong):
        with pytest.raises(CredentialsRefused, match=r"HTTP 401: the register refused the connection's credentials"):
            PropertyRegisterLookup({}, connection).lookup("KUMLA STENEN 1:23")


def test_bearer_token_from_the_connection(connect):
    with start_simulator("property-register", bearer_token="t0ken") as register:
        token = Connection.from_uri(
            "register", f"{register.url.replace('//', '//:t0ken@')}?allow_http=true&auth=bearer"
        )
        assert PropertyRegisterLookup({}, token).lookup("KUMLA STENEN 1:23") == STENEN
        assert register.app.recorded[-1].auth_scheme == "bearer"
        # Basic credentials do not open a bearer-only register.
        with pytest.raises(CredentialsRefused, match="HTTP 401"):
            PropertyRegisterLookup({}, connect(register, "register")).lookup("KUMLA STENEN 1:23")


def test_bearer_needs_a_token(register):
    connection = Connection.from_uri("register", f"{register.url}?allow_http=true&auth=bearer")
    with pytest.raises(ConfigError, match="auth=bearer needs the token"):
        PropertyRegisterLookup({}, connection)


def test_plain_http_is_refused_without_allow_http(register):
    connection = Connection.from_uri("register", register.url.replace("//", "//brygga:s3cret@"))

    with pytest.raises(ConfigError, match="https-only"):
        PropertyRegisterLookup({}, connection)
    assert register.app.recorded == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_and_throttling_are_temporary(lookup, register, status):
    register.app.faults.set([{"action": "http_status", "status": status}])

    with pytest.raises(TargetUnavailable, match=f"HTTP {status}") as raised:
        lookup.lookup("KUMLA STENEN 1:23")
    assert "STENEN" not in str(raised.value)


def test_other_client_errors_are_rejected(register, connect):
    # The register refuses parameters it does not know (400): a config mistake, not an outage.
    unknown = PropertyRegisterLookup({"fixed_query": {"kommun": "KUMLA"}}, connect(register, "register"))

    with pytest.raises(TargetRejected, match="HTTP 400"):
        unknown.lookup("KUMLA STENEN 1:23")


def test_a_redirect_is_not_followed(lookup, register):
    register.app.faults.set([{"action": "http_status", "status": 302}])

    with pytest.raises(TargetRejected, match="redirects are not followed"):
        lookup.lookup("KUMLA STENEN 1:23")


def test_html_maintenance_page_is_temporary(lookup, register):
    register.app.faults.set([{"action": "html_200"}])

    with pytest.raises(TargetUnavailable, match="HTML"):
        lookup.lookup("KUMLA STENEN 1:23")


def test_a_non_json_answer_is_temporary(lookup, register):
    # A bare text/plain body with 200, as a misbehaving proxy sends.
    register.app.faults.set([{"action": "http_status", "status": 200}])

    with pytest.raises(TargetUnavailable, match="not JSON"):
        lookup.lookup("KUMLA STENEN 1:23")


def test_a_slow_register_times_out(register, connect):
    register.app.faults.set([{"action": "delay", "seconds": 1.0}])
    slow = PropertyRegisterLookup({}, connect(register, "register", read_timeout="0.2"))

    with pytest.raises(TargetUnavailable, match="timed out"):
        slow.lookup("KUMLA STENEN 1:23")


def test_a_register_that_is_down_is_temporary(free_port):
    connection = Connection.from_uri("register", f"http://127.0.0.1:{free_port}/api?allow_http=true")

    with pytest.raises(TargetUnavailable, match="could not connect"):
        PropertyRegisterLookup({}, connection).lookup("KUMLA STENEN 1:23")


def test_logs_name_no_designation(lookup, register, caplog):
    caplog.set_level(logging.DEBUG)
    lookup.lookup("KUMLA STENEN 1:23")
    lookup.lookup("KUMLA STENEN 1:23")
    register.app.faults.set([{"action": "http_status", "status": 503}])
    with pytest.raises(TargetUnavailable):
        lookup.lookup("KUMLA KÅTORP 5:8")

    text = caplog.text
    assert "property lookup" in text
    assert "STENEN" not in text and "KÅTORP" not in text


# --- session and cache ---------------------------------------------------------------------------------------


def test_one_session_per_connection(register, connect):
    first = PropertyRegisterLookup({}, connect(register, "register-kumla"))
    second = PropertyRegisterLookup({"cache_seconds": 0}, connect(register, "register-kumla"))

    assert first.session is second.session
    assert PropertyRegisterLookup({}, connect(register, "register-other")).session is not first.session


def test_answers_are_cached_across_adapter_instances(register, connect):
    PropertyRegisterLookup({}, connect(register, "register-kumla")).lookup("KUMLA STENEN 1:23")
    again = PropertyRegisterLookup({}, connect(register, "register-kumla"))

    assert again.lookup("kumla stenen 1:23") == STENEN
    assert again.lookup("KUMLA OKÄND 9:99") is None
    assert again.lookup("KUMLA OKÄND 9:99") is None  # "no such unit" is an answer too
    assert len(_searches(register)) == 2


def test_cache_off_asks_every_time(register, connect):
    lookup = PropertyRegisterLookup({"cache_seconds": 0}, connect(register, "register-kumla"))
    lookup.lookup("KUMLA STENEN 1:23")
    lookup.lookup("KUMLA STENEN 1:23")

    assert len(_searches(register)) == 2


def test_failures_are_not_cached(lookup, register):
    register.app.faults.set([{"action": "http_status", "status": 503}])
    with pytest.raises(TargetUnavailable):
        lookup.lookup("KUMLA STENEN 1:23")
    register.app.faults.clear()

    assert lookup.lookup("KUMLA STENEN 1:23") == STENEN


def test_another_request_shape_is_another_cache_entry(register, connect):
    PropertyRegisterLookup({}, connect(register, "register")).lookup("KUMLA STENEN 1:23")
    filtered = PropertyRegisterLookup({"fixed_query": {"kommunkod": "1881"}}, connect(register, "register"))

    assert filtered.lookup("KUMLA STENEN 1:23") == STENEN
    assert len(_searches(register)) == 2


def test_cache_entries_expire_and_the_oldest_go_first():
    now = [0.0]
    cache = AnswerCache(max_entries=2, clock=lambda: now[0])
    cache.put("a", STENEN, 10)
    cache.put("b", None, 10)

    assert cache.get("a") == (True, STENEN)
    assert cache.get("b") == (True, None)
    now[0] = 10.0
    assert cache.get("a") == (False, None)
    cache.put("c", STENEN, 10)
    cache.put("d", STENEN, 10)
    cache.put("e", STENEN, 10)
    assert cache.get("c") == (False, None)  # evicted: the cache holds two
    assert cache.get("e") == (True, STENEN)


# --- reading other registers' answers (pure) -------------------------------------------------------------------

SHAPE = AnswerShape(None, "beteckning", "fnr", "objektidentitet")
WRAPPED = AnswerShape("data.fastigheter", "fastighet.beteckning", "fastighet.nyckel", "fastighet.uuid")
WHERE = "property-register test.lookup"


def test_wrapped_answers_and_dotted_fields():
    document = {
        "data": {
            "fastigheter": [
                {"fastighet": {"beteckning": "Kumla Stenen 1:23", "nyckel": "22044332", "uuid": STENEN.object_identity}}
            ]
        }
    }

    assert pick(hits(document, WRAPPED, WHERE), "KUMLA STENEN 1:23", WRAPPED, WHERE) == STENEN


def test_one_object_is_one_hit_and_null_is_none():
    single = {"beteckning": "KUMLA STENEN 1:23", "fnr": 22044332, "objektidentitet": STENEN.object_identity}
    assert pick(hits(single, SHAPE, WHERE), "KUMLA STENEN 1:23", SHAPE, WHERE) == STENEN
    assert hits(None, SHAPE, WHERE) == []
    assert hits({"data": {"fastigheter": None}}, WRAPPED, WHERE) == []


def test_a_missing_results_field_is_a_config_mismatch_not_a_miss():
    with pytest.raises(TargetRejected, match=r"no field 'data\.fastigheter'"):
        hits({"items": []}, WRAPPED, WHERE)


def test_a_single_hit_that_does_not_echo_its_designation_is_taken():
    document = [{"fnr": 22044332}]

    assert pick(hits(document, SHAPE, WHERE), "KUMLA STENEN 1:23", SHAPE, WHERE) == PropertyRecord(
        "KUMLA STENEN 1:23", 22044332, None
    )


def test_several_hits_without_designations_are_ambiguous():
    with pytest.raises(TargetRejected, match="ambiguous"):
        pick([{"fnr": 1}, {"fnr": 2}], "KUMLA STENEN 1:23", SHAPE, WHERE)


def test_identical_duplicates_are_one_unit():
    duplicate = {"beteckning": "KUMLA STENEN 1:23", "fnr": 22044332, "objektidentitet": STENEN.object_identity}

    assert pick([duplicate, dict(duplicate)], "KUMLA STENEN 1:23", SHAPE, WHERE) == STENEN


@pytest.mark.parametrize(
    "hit, field",
    [
        ({"beteckning": "KUMLA STENEN 1:23", "fnr": "22O44332"}, "fnr"),
        ({"beteckning": "KUMLA STENEN 1:23", "fnr": -4}, "fnr"),
        ({"beteckning": "KUMLA STENEN 1:23", "fnr": True}, "fnr"),
        ({"beteckning": "KUMLA STENEN 1:23", "fnr": 1, "objektidentitet": "not-a-uuid"}, "objektidentitet"),
    ],
)
def test_malformed_keys_are_rejected_naming_the_field_not_the_value(hit, field):
    with pytest.raises(TargetRejected, match=f"field '{field}'") as raised:
        pick([hit], "KUMLA STENEN 1:23", SHAPE, WHERE)

    assert "22O44332" not in str(raised.value) and "not-a-uuid" not in str(raised.value)


@pytest.mark.parametrize("document", ["text", 42, [1, 2], [{"fnr": 1}, "x"]])
def test_hits_must_be_objects(document):
    with pytest.raises(TargetRejected, match="not JSON objects"):
        hits(document, SHAPE, WHERE)
