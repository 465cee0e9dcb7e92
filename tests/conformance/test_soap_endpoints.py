"""Endpoints that serve no WSDL, the same in every SOAP profile: reply-shape fails naming why (a check that found the
endpoint wrong, not an error of the kit), and the checks that need the WSDL are skipped, pointing to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response

from brygga_adapters.ecos import clear_lookup_cache
from brygga_adapters.soap import clear_soap_cache
from brygga_conformance.endpoint import Endpoint
from brygga_conformance.runner import RunReport, run_profile

from .http_helpers import serving

SOAP_PROFILES = ("byggr-soap", "ecos-soap", "eservice-callback")
SAMPLE = {"byggr-soap": "bygglov-person", "ecos-soap": "varmepump-bergvarme", "eservice-callback": "bygglov-person"}
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Logga in</title></head><body><form></form></body></html>"
SKIPPED = "skipped: the endpoint's WSDL could not be loaded (see reply-shape)"


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    clear_soap_cache()
    clear_lookup_cache()
    yield
    clear_soap_cache()
    clear_lookup_cache()


def login_page(environ: dict, start_response: object) -> object:
    """A single sign-on page where the service should be: every request gets it, HTTP 200."""
    return Response(LOGIN_PAGE, mimetype="text/html")(environ, start_response)


def not_found(environ: dict, start_response: object) -> object:
    return Response(f"no {Request(environ).path} here", status=404, mimetype="text/plain")(environ, start_response)


def run(profile: str, url: str, workdir: Path) -> RunReport:
    return run_profile(profile, Endpoint(url), workdir=workdir, samples=[SAMPLE[profile]], run_id="t1")


def reply_shape(report: RunReport) -> tuple[str, list[str]]:
    (result,) = [r for r in report.results if r.check.id == "reply-shape" and r.sample is None]
    return result.outcome, result.findings


@pytest.mark.parametrize("profile", SOAP_PROFILES)
def test_an_html_page_instead_of_the_wsdl_is_named_as_such(profile: str, tmp_path: Path) -> None:
    with serving(login_page) as base:
        url = f"{base}/svc"
        report = run(profile, url, tmp_path)

    outcome, (finding,) = reply_shape(report)
    assert outcome == "failed"
    assert finding == (f"the endpoint's WSDL could not be loaded: TargetUnavailable: connection 'conformance-t1': "
                       f"{url}?wsdl answered text/html, not a WSDL (a login or maintenance page?)")
    others = {r.findings[0] for r in report.results if r.check.id != "reply-shape"}
    assert others == {SKIPPED}


@pytest.mark.parametrize("profile", SOAP_PROFILES)
def test_a_wsdl_that_is_not_there_fails_reply_shape(profile: str, tmp_path: Path) -> None:
    with serving(not_found) as base:
        report = run(profile, f"{base}/svc", tmp_path)

    outcome, (finding,) = reply_shape(report)
    assert outcome == "failed"
    assert finding == "the endpoint's WSDL could not be loaded: TargetRejected: conformance-t1.load WSDL: HTTP 404"
    assert {r.outcome for r in report.results if r.check.id != "reply-shape"} == {"skipped"}
