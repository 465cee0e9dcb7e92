"""RestTarget's credentials: OAuth2 client credentials (cached, renewed on 401, refused), API key and Basic, and the
rule that credentials go to their own origin only."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator

import pytest
from rest_workorder import TOKEN_PATH, WORK_ORDER_CONFIG, calls_to, connection_to, delivery, json_answer
from werkzeug.wrappers import Request, Response

from brygga.connections import Connection
from brygga.errors import ConfigError, CredentialsRefused, TargetUnavailable
from brygga_adapters.http import auth as auth_module
from brygga_adapters.http import build_session
from brygga_adapters.rest import RestTarget
from brygga_adapters.rest import sessions as rest_sessions
from brygga_simulators.serving import serve

SIMPLE = {"create": {"path": "/cases"}, "reference": {"json": "/id"}}


# --- OAuth2 against the work-order simulator ------------------------------------------------------------


def test_one_token_serves_every_delivery_of_the_connection(work_orders):
    first = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders))
    receipts = [first.deliver(delivery(submission=f"sub-{n}")) for n in range(3)]
    # Another adapter on the same connection (the pipeline builds one per batch) takes the cached token too.
    receipts.append(RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders)).deliver(delivery(submission="sub-9")))

    assert [receipt.created for receipt in receipts] == [True] * 4
    assert calls_to(work_orders, TOKEN_PATH) == 1
    assert work_orders.app.counts()["orders"] == 4
    api_calls = [entry for entry in work_orders.app.recorded if not entry.path.endswith(TOKEN_PATH)]
    assert {entry.auth_scheme for entry in api_calls} == {"bearer"}


def test_an_expired_token_is_renewed_on_401_and_the_request_sent_again(work_orders, clock):
    target = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders))
    target.deliver(delivery(submission="sub-1"))
    clock.advance(2 * 3600)  # the simulator's token expired; the adapter still believes it fresh for an hour

    receipt = target.deliver(delivery(submission="sub-2"))

    assert receipt.created is True
    assert calls_to(work_orders, TOKEN_PATH) == 2
    statuses = [entry.status for entry in work_orders.app.recorded if entry.path.endswith("/orders")]
    assert 401 in statuses  # the refused call, then the same call with the new token
    assert work_orders.app.counts()["orders_per_external_ref"] == {"brygga:sub-1": 1, "brygga:sub-2": 1}


def test_a_token_is_renewed_shortly_before_it_expires(work_orders, monkeypatch):
    # The simulator's tokens live an hour; the adapter renews 60 s before the end, not after a refusal.
    now = [1000.0]
    monkeypatch.setattr(auth_module, "_clock", lambda: now[0])
    target = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders))
    target.deliver(delivery(submission="sub-1"))
    now[0] += 3600 - 61
    target.deliver(delivery(submission="sub-2"))
    tokens_while_fresh = calls_to(work_orders, TOKEN_PATH)
    now[0] += 2
    target.deliver(delivery(submission="sub-3"))

    assert (tokens_while_fresh, calls_to(work_orders, TOKEN_PATH)) == (1, 2)
    assert all(entry.status != 401 for entry in work_orders.app.recorded)


def test_a_wrong_client_secret_is_credentials_refused_naming_the_connection(work_orders):
    target = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders, password="wr0ng-s3cret"))

    with pytest.raises(CredentialsRefused, match=r"'workorder-kumla'.*invalid_client") as refused:
        target.deliver(delivery())

    assert "wr0ng-s3cret" not in str(refused.value)
    assert work_orders.app.counts()["orders"] == 0


def test_client_id_and_secret_may_go_in_the_token_form(work_orders):
    target = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders, token_auth="body"))

    assert target.deliver(delivery()).created is True
    token_call = next(entry for entry in work_orders.app.recorded if entry.path.endswith(TOKEN_PATH))
    assert token_call.auth_scheme is None  # no Basic header: the client authenticated in the form


def test_a_token_endpoint_that_is_down_is_transient(work_orders):
    work_orders.app.faults.set([{"operation": TOKEN_PATH, "action": "http_status", "status": 503}])
    target = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders))

    with pytest.raises(TargetUnavailable, match="token endpoint: HTTP 503"):
        target.deliver(delivery())


def test_a_second_401_is_credentials_refused(recorder):
    app, running = recorder

    def answer(request: Request) -> Response:
        if request.path == "/token":
            return json_answer({"access_token": f"t{len(app.seen)}", "token_type": "Bearer", "expires_in": 3600})
        return json_answer({"title": "Unauthorized", "status": 401}, 401, content_type="application/problem+json")

    app.answer = answer
    target = RestTarget(SIMPLE, connection_to(running, "api", token_url="/token"))

    with pytest.raises(CredentialsRefused, match=r"rest api.create: HTTP 401"):
        target.deliver(delivery())

    authorization = [(seen.path, seen.headers.get("Authorization", "")[:6]) for seen in app.seen]
    assert authorization == [("/token", "Basic "), ("/cases", "Bearer"), ("/token", "Basic "), ("/cases", "Bearer")]
    assert [seen.headers["Authorization"] for seen in app.seen[1::2]] == ["Bearer t1", "Bearer t3"]


@pytest.mark.parametrize("extras", [{"token_url": None}, {"token_url": "token"}, {"auth": "oauth3"}])
def test_oauth2_needs_a_usable_token_url(work_orders, extras):
    with pytest.raises(ConfigError, match=r"token_url|'auth' must be one of basic, bearer, api_key, oauth2"):
        RestTarget(SIMPLE, connection_to(work_orders, **extras))


def test_a_token_url_on_a_host_the_connection_does_not_allow_is_refused(work_orders):
    with pytest.raises(ConfigError, match=r"'workorder-kumla'.*not allowed.*extra 'token_url'") as refused:
        RestTarget(SIMPLE, connection_to(work_orders, token_url="https://idp.example/token"))
    assert "s3cret" not in str(refused.value)


# --- API key and Basic ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extras", "header", "value"),
    [
        ({"auth": "api_key"}, "X-Api-Key", "k3y-123"),
        ({"auth": "api_key", "api_key_header": "Ocp-Apim-Subscription-Key"}, "Ocp-Apim-Subscription-Key", "k3y-123"),
        ({"auth": "basic"}, "Authorization", "Basic " + base64.b64encode(b"brygga:k3y-123").decode()),
        ({"auth": "bearer"}, "Authorization", "Bearer k3y-123"),
    ],
)
def test_api_key_basic_and_bearer_are_sent(recorder, extras, header, value):
    app, running = recorder
    connection = connection_to(running, "api", password="k3y-123", token_url=None, **extras)

    assert RestTarget(SIMPLE, connection).deliver(delivery()).external_ref == "C-1"
    assert app.seen[0].headers[header] == value
    if extras["auth"] == "api_key":
        assert "Authorization" not in app.seen[0].headers


def test_an_api_key_header_name_must_be_a_header_name(recorder):
    _app, running = recorder
    with pytest.raises(ConfigError, match="extra 'api_key_header' must be an HTTP header name"):
        RestTarget(SIMPLE, connection_to(running, "api", token_url=None, auth="api_key", api_key_header="X Key:"))


# --- credentials go to their own origin only -----------------------------------------------------------


class _Recording(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[int, dict[str, str]]]

    def do_GET(self) -> None:
        self.seen.append((self.server.server_port, dict(self.headers)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def two_servers() -> Iterator[tuple[int, int, list[tuple[int, dict[str, str]]]]]:
    seen: list[tuple[int, dict[str, str]]] = []
    handler = type("Handler", (_Recording,), {"seen": seen})
    servers = [http.server.HTTPServer(("127.0.0.1", 0), handler) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield servers[0].server_port, servers[1].server_port, seen
    for server in servers:
        server.shutdown()
        server.server_close()


def test_an_api_key_goes_to_the_connections_own_origin_only(two_servers):
    own, other, seen = two_servers
    connection = Connection.from_uri(
        "api", f"http://:k3y@127.0.0.1:{own}/x?allow_http=true&auth=api_key&allowed_hosts=127.0.0.1:{other}"
    )
    session = build_session(connection)

    session.get(f"http://127.0.0.1:{own}/x", timeout=5).raise_for_status()
    session.get(f"http://127.0.0.1:{other}/x", timeout=5).raise_for_status()
    session.get(f"http://127.0.0.1:{other}/x", headers={"X-API-Key": "k3y"}, timeout=5).raise_for_status()

    assert [(port, headers.get("X-API-Key")) for port, headers in seen] == [(own, "k3y"), (other, None), (other, None)]


def test_the_client_secret_goes_to_the_token_endpoint_and_the_token_to_the_api_only(work_orders, recorder):
    # The identity provider is another origin (an allowed host:port); the API is the connection's own origin.
    idp, idp_running = recorder
    idp.answer = lambda request: json_answer({"access_token": "t0ken", "token_type": "Bearer", "expires_in": 600})
    api_app_seen: list[dict[str, str]] = []

    def api_app(environ, start_response):
        request = Request(environ)
        api_app_seen.append(dict(request.headers))
        return json_answer({"id": "C-7"}, 201)(environ, start_response)

    api_running = serve(api_app)
    try:
        idp_port = idp_running.server.port
        connection = connection_to(api_running, "api", token_url=f"{idp_running.base_url}/token",
                                   allowed_hosts=f"127.0.0.1:{idp_port}")
        assert RestTarget(SIMPLE, connection).deliver(delivery()).external_ref == "C-7"
    finally:
        api_running.stop()

    expected_basic = "Basic " + base64.b64encode(b"brygga:s3cret").decode()
    assert [seen.headers.get("Authorization") for seen in idp.seen] == [expected_basic]
    assert [headers.get("Authorization") for headers in api_app_seen] == ["Bearer t0ken"]


def test_a_token_answer_over_the_size_cap_is_refused_without_its_content(recorder):
    idp, idp_running = recorder
    padding = "geheim-" * (auth_module.MAX_TOKEN_ANSWER_BYTES // 7 + 1)
    idp.answer = lambda request: json_answer({"access_token": "t0ken", "token_type": "Bearer", "note": padding})
    connection = connection_to(idp_running, "api", token_url="/token")

    with pytest.raises(ConfigError, match=r"OAuth2 token endpoint: the answer is larger than 65536 bytes") as refused:
        RestTarget(SIMPLE, connection).deliver(delivery())
    assert "geheim" not in str(refused.value)
    assert [seen.path for seen in idp.seen] == ["/token"]  # nothing went to the API without a token


def test_a_rotated_secret_leaves_one_cached_session_and_token_for_the_connection(recorder):
    idp, idp_running = recorder
    issued: list[str] = []

    def answer(request):
        if request.path == "/token":
            issued.append(request.authorization.password)
            return json_answer({"access_token": f"t{len(issued)}", "token_type": "Bearer", "expires_in": 600})
        return json_answer({"id": f"C-{len(idp.seen)}"}, 201)

    idp.answer = answer
    for secret in ("first-secret", "second-secret", "third-secret"):
        RestTarget(SIMPLE, connection_to(idp_running, "api", password=secret, token_url="/token")).deliver(delivery())

    assert issued == ["first-secret", "second-secret", "third-secret"]
    assert rest_sessions.cached_sessions("api") == 1
    assert auth_module.cached_token_slots("api") == 1
    # The caches are keyed by a digest: no secret is held as a key.
    assert not any("secret" in repr(key) for key in [*rest_sessions._sessions, *auth_module._slots])
    # The session built for the current secret is the one kept; the old ones are gone.
    current = rest_sessions.session_for(connection_to(idp_running, "api", password="third-secret", token_url="/token"))
    assert list(rest_sessions._sessions.values()) == [current]
