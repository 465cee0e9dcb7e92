"""Which outage a failing call is part of: the connection its call site calls through, as the bundled routes file
shares them; a call site without a connection is its route's own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from brygga.alerts.sites import call_sites, outage_of, retry_policy
from brygga.retry import RetryPolicy
from brygga.routes import load_routes
from brygga.settings import REPO_ROOT


@pytest.fixture(scope="module")
def routes():  # type: ignore[no-untyped-def]
    return load_routes(REPO_ROOT / "routes" / "routes.yaml", REPO_ROOT / "mappings")


def test_a_connection_several_routes_call_through_is_one_outage_for_all_of_them(routes):
    notify = outage_of(routes, "kumla-felanmalan", "@notify")
    assert notify == outage_of(routes, "kumla-bygglov", "@notify")
    assert (notify.key, notify.connection, notify.label) == ("delivery:oep_kumla", "oep_kumla", "@notify")
    assert notify.routes == ("kumla-bygglov", "kumla-felanmalan", "kumla-varmepump")
    shared = outage_of(routes, "ydre-kinda-beslut", "va-ydre")
    assert shared.key == "delivery:workorder_ydre"
    assert shared.members == (("cesam-bygga-hus", "va-ydre"), ("ydre-kinda-beslut", "va-ydre"))


def test_a_call_site_of_one_route_keeps_its_name_and_one_without_a_connection_is_the_routes_own(routes):
    byggr = outage_of(routes, "kumla-bygglov", "byggr")
    assert (byggr.key, byggr.members, byggr.label) == ("delivery:byggr_kumla", (("kumla-bygglov", "byggr"),), "byggr")
    folder = outage_of(routes, "kumla-bygglov", "@archive")  # an archive folder: no connection
    assert (folder.key, folder.connection, folder.routes) == ("delivery:kumla-bygglov:@archive", None,
                                                              ("kumla-bygglov",))
    assert outage_of(routes, "cesam-bygga-hus", "@archive:va-ydre").key == "delivery:earkiv_ydre_sftp"
    gone = outage_of(routes, "kumla-bygglov", "a-target-no-longer-there")
    assert gone.key == "delivery:kumla-bygglov:a-target-no-longer-there"


def test_every_call_site_of_a_route_and_its_retry_policy(routes):
    cesam = next(r for r in routes if r.id == "cesam-bygga-hus")
    assert call_sites(cesam) == ["byggr-kinda", "va-ydre", "@notify", "@archive", "@archive:va-ydre"]
    assert retry_policy(cesam, "@archive").budget == timedelta(hours=24) == cesam.archive.retry.budget
    assert retry_policy(cesam, "@archive:va-ydre") == cesam.targets[1].archive.retry
    assert retry_policy(cesam, "nowhere") == RetryPolicy()
