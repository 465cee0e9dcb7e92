"""The built-in notifiers against real servers: e-mail over STARTTLS and implicit TLS with a login, checked
certificates, and webhook payloads as Teams and other receivers take them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alerting import SMTP_PASSWORD, MailServer, free_port

from brygga.alerts import (
    DELIVERY_FAILING,
    DELIVERY_RECOVERED,
    QUARANTINE,
    Alert,
    Meanwhile,
    NotifierFailed,
    ReasonGroup,
)
from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga_adapters.alerting.smtp import SmtpNotifier
from brygga_adapters.alerting.webhook import FORMATS, WebhookNotifier

SINCE = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
FAILING = Alert(kind=DELIVERY_FAILING, route_id="kumla-bygglov", site="byggr", since=SINCE, submissions=3,
                submission_ids=("id-1", "id-2", "id-3"), budget=timedelta(hours=24),
                admin_url="https://airflow.kumla.se/brygga/")
QUARANTINED = Alert(kind=QUARANTINE, route_id="kumla-bygglov", since=SINCE, submissions=2,
                    submission_ids=("id-1", "id-2"),
                    groups=(ReasonGroup("translate", "<file>: not well-formed XML", 2, ("id-1", "id-2")),))
MAIL_CONFIG = {"from": "brygga@kumla.se", "to": ["it-drift@kumla.se", "jour@kumla.se"]}


def _connection(conn_id: str, uri: str) -> Connection:
    return Connection.from_uri(conn_id, uri)


# aiosmtpd warns that AUTH is not bound to STARTTLS; under implicit TLS ("ssl") the whole session is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_mail_goes_over_tls_with_the_connections_login_and_a_checked_certificate(pki, security):
    server = MailServer(free_port(), security=security, pki=pki).start()
    try:
        notifier = SmtpNotifier({**MAIL_CONFIG, "subject_prefix": "[drift]"},
                                _connection("alerts_smtp", server.uri(ca_bundle=str(pki.ca_file))))
        notifier.send(FAILING)
        (mail,) = server.messages
        assert server.logins == ["brygga"]
        assert mail["Subject"] == "[drift] Brygga kumla-bygglov: byggr failing since 2026-03-02 08:15 UTC"
        assert mail["To"] == "it-drift@kumla.se, jour@kumla.se" and mail["Auto-Submitted"] == "auto-generated"
        body = mail.get_content()
        assert "Waiting on byggr: 3 submissions. ids: id-1, id-2, id-3" in body
        assert "Admin page: https://airflow.kumla.se/brygga/" in body
    finally:
        server.stop()


def test_a_server_certificate_the_connection_does_not_trust_is_refused_without_the_password(pki):
    server = MailServer(free_port(), security="starttls", pki=pki).start()
    try:
        notifier = SmtpNotifier(MAIL_CONFIG, _connection("alerts_smtp", server.uri()))  # no ca_bundle
        with pytest.raises(NotifierFailed) as refused:
            notifier.send(FAILING)
        assert "SSLCertVerificationError" in str(refused.value) and SMTP_PASSWORD not in str(refused.value)
        assert server.messages == []
    finally:
        server.stop()


@pytest.mark.parametrize(("uri", "message"), [
    ("smtp://user:pw@127.0.0.1:25?security=none", "would send the login in clear text"),
    ("smtp://127.0.0.1:25?security=plain", "extra 'security' must be one of starttls, ssl, none"),
    ("smtp://127.0.0.1:587?verify=false", "TLS certificate verification is always on"),
])
def test_an_smtp_connection_that_would_weaken_tls_is_refused(uri, message):
    with pytest.raises(ConfigError, match=message):
        SmtpNotifier(MAIL_CONFIG, _connection("alerts_smtp", uri))


def test_the_sender_may_come_from_the_connection_as_airflow_keeps_it(smtp):
    notifier = SmtpNotifier({"to": ["it-drift@kumla.se"]},
                            _connection("alerts_smtp", smtp.uri(from_email="noreply@kumla.se")))
    notifier.send(QUARANTINED)
    assert smtp.messages[0]["From"] == "noreply@kumla.se"
    with pytest.raises(ConfigError, match=r"give config\.from, or the extra from_email"):
        SmtpNotifier({"to": ["it-drift@kumla.se"]}, _connection("alerts_smtp", smtp.uri()))


def test_a_mail_server_that_is_down_is_a_failed_send(smtp):
    uri = smtp.uri()
    smtp.stop()
    with pytest.raises(NotifierFailed, match="ConnectionRefusedError"):
        SmtpNotifier(MAIL_CONFIG, _connection("alerts_smtp", uri)).send(FAILING)


def test_the_default_webhook_payload_is_a_text_message_teams_and_chat_tools_show(hook):
    notifier = WebhookNotifier({}, _connection("alerts_teams", hook.uri(query="api-version%3D1%26sig%3Dabc")))
    notifier.send(FAILING)
    (post,) = hook.posts
    assert post["path"] == "/webhookb2/team-secret?api-version=1&sig=abc"
    assert post["headers"]["Content-Type"] == "application/json"
    assert list(post["json"]) == ["text"]
    assert post["json"]["text"].startswith("**Brygga kumla-bygglov: byggr failing since 2026-03-02 08:15 UTC**\n\n")
    assert "brygga trace id-1" in post["json"]["text"]


def test_webhook_formats_for_teams_cards_and_for_systems_that_read_fields(hook):
    for form in FORMATS:
        WebhookNotifier({"format": form}, _connection("alerts_teams", hook.uri())).send(QUARANTINED)
    text, card, adaptive, fields = hook.bodies
    assert text == {"text": f"**{QUARANTINED.subject}**\n\n{QUARANTINED.text}"}
    assert card["@type"] == "MessageCard" and card["title"] == "Brygga kumla-bygglov: 2 submissions quarantined"
    assert card["summary"] == card["title"] and card["themeColor"] == "E8A33D" and "translate, 2 submissions" in \
        card["text"]
    (attachment,) = adaptive["attachments"]
    assert adaptive["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["body"][0]["text"] == QUARANTINED.subject
    assert fields["kind"] == "quarantine" and fields["route"] == "kumla-bygglov" and fields["submissions"] == 2
    assert fields["groups"] == [{"step": "translate", "reason": "<file>: not well-formed XML", "count": 2,
                                 "submission_ids": ["id-1", "id-2"]}]
    assert fields["since"] == "2026-03-02T08:15:00+00:00" and fields["site"] is None


def test_a_recovery_card_is_green_and_links_to_the_admin_page(hook):
    recovered = Alert(kind=DELIVERY_RECOVERED, route_id="kumla-bygglov", site="byggr", since=SINCE,
                      until=SINCE + timedelta(hours=26, minutes=5), submissions=4, admin_url="https://a.kumla.se/b")
    WebhookNotifier({"format": "message-card"}, _connection("alerts_teams", hook.uri())).send(recovered)
    (card,) = hook.bodies
    assert card["title"] == "Brygga kumla-bygglov: byggr delivers again" and card["themeColor"] == "2E7D32"
    assert "(26 h 5 min)" in card["text"] and "4 submissions waited on it" in card["text"]
    assert card["potentialAction"][0]["targets"] == [{"os": "default", "uri": "https://a.kumla.se/b"}]


def test_webhook_credentials_are_the_connections(hook):
    notifier = WebhookNotifier({"format": "json"}, _connection(
        "alerts_incidents", hook.uri(path="/api/alerts").replace("http://", "http://:token-123@") + "&auth=bearer"))
    notifier.send(FAILING)
    assert hook.posts[0]["headers"]["Authorization"] == "Bearer token-123"


def test_a_refusing_receiver_is_a_failed_send_that_does_not_show_the_secret_url(hook):
    hook.status = 500
    notifier = WebhookNotifier({}, _connection("alerts_teams", hook.uri()))
    with pytest.raises(NotifierFailed) as refused:
        notifier.send(FAILING)
    assert str(refused.value) == "webhook notifier on connection 'alerts_teams': the receiver answered HTTP 500"
    port = hook.port
    hook.server.shutdown()
    hook.server.server_close()
    with pytest.raises(NotifierFailed) as unreachable:
        WebhookNotifier({}, _connection("alerts_teams", f"http://127.0.0.1:{port}/webhookb2/team-secret"
                                                        "?allow_http=true")).send(FAILING)
    assert "ConnectionError" in str(unreachable.value) and "team-secret" not in str(unreachable.value)


def test_a_webhook_over_plain_http_is_refused_unless_the_connection_allows_it():
    with pytest.raises(ConfigError, match="plain http is refused"):
        WebhookNotifier({}, _connection("alerts_teams", "http://teams.example/webhookb2/x"))


def test_a_shared_outage_names_its_routes_and_connection_and_its_end_says_what_to_replay(hook):
    recovered = Alert(kind=DELIVERY_RECOVERED, route_id="kumla-bygglov", site="@notify", since=SINCE,
                      until=SINCE + timedelta(hours=30), submissions=5, connection="oep_kumla",
                      routes=("kumla-bygglov", "kumla-felanmalan", "kumla-varmepump", "kumla-extra"),
                      quarantined=(Meanwhile("kumla-bygglov", "notify", 2), Meanwhile("kumla-felanmalan", "notify", 1)))
    assert recovered.subject == ("Brygga kumla-bygglov, kumla-felanmalan, kumla-varmepump and 1 more route: @notify "
                                 "delivers again")
    assert recovered.text.startswith("Calls from routes kumla-bygglov, kumla-felanmalan, kumla-varmepump and "
                                     "kumla-extra to @notify (connection oep_kumla) deliver again")
    assert "During the outage, 3 submissions went to quarantine, their retry budget spent." in recovered.text
    assert ("- brygga quarantine replay --route kumla-bygglov --step notify  (2 submissions)\n"
            "- brygga quarantine replay --route kumla-felanmalan --step notify  (1 submission)") in recovered.text
    WebhookNotifier({"format": "json"}, _connection("alerts_teams", hook.uri())).send(recovered)
    (fields,) = hook.bodies
    assert fields["routes"] == list(recovered.routes) and fields["connection"] == "oep_kumla"
    assert fields["quarantined"] == [{"route": "kumla-bygglov", "step": "notify", "count": 2},
                                     {"route": "kumla-felanmalan", "step": "notify", "count": 1}]
