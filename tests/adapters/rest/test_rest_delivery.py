"""RestTarget against the work-order simulator: create, Idempotency-Key, check-before-create, amendments."""

from __future__ import annotations

import pytest
from rest_workorder import WORK_ORDER_CONFIG, calls_to, connection_to, delivery

from brygga.errors import TargetInDoubt, TargetRejected
from brygga.plugins import Amendment
from brygga_adapters.rest import RestTarget

WITHOUT_SEARCH = {key: value for key, value in WORK_ORDER_CONFIG.items() if key != "search"}


def test_a_submission_becomes_one_order_with_its_extern_ref(target, work_orders):
    receipt = target.deliver(delivery())

    assert receipt.created is True
    order = work_orders.app.order(receipt.external_ref)
    assert order["externalRef"] == "brygga:sub-0001"  # written at config extern_ref_field
    assert (order["category"], order["status"]) == ("belysning", "registered")


def test_the_same_request_twice_is_one_order_by_its_idempotency_key(work_orders):
    target = RestTarget(WITHOUT_SEARCH, connection_to(work_orders))

    first, second = target.deliver(delivery()), target.deliver(delivery())

    assert first.external_ref == second.external_ref
    assert (first.created, second.created) == (True, False)  # the second answer was the first one replayed
    assert work_orders.app.counts()["orders"] == 1
    assert calls_to(work_orders, "/orders", "POST") == 2


def test_a_found_case_is_not_created_again(target, work_orders):
    first = target.deliver(delivery())
    # Another version of the key (a re-export): the target is searched first and the case taken.
    second = target.deliver(delivery(idempotency_key="sub-0001:other-key"))

    assert (second.external_ref, second.created) == (first.external_ref, False)
    assert calls_to(work_orders, "/orders", "POST") == 1


def test_a_lost_create_reply_is_in_doubt_and_the_retry_finds_the_order(target, work_orders):
    # Call 1 on /orders is the search, call 2 the create: carried out, then the connection closes.
    work_orders.app.faults.set([{"operation": "/orders", "action": "lose_reply", "nth": 2}])

    with pytest.raises(TargetInDoubt, match=r"rest workorder-kumla.create: the connection closed without an answer"):
        target.deliver(delivery())
    assert work_orders.app.counts()["orders"] == 1  # it did happen

    receipt = target.deliver(delivery())

    assert receipt.created is False
    assert work_orders.app.counts()["orders_per_external_ref"] == {"brygga:sub-0001": 1}


def test_a_lost_create_reply_without_search_is_settled_by_the_idempotency_key(work_orders):
    target = RestTarget(WITHOUT_SEARCH, connection_to(work_orders))
    work_orders.app.faults.set([{"operation": "/orders", "action": "lose_reply", "nth": 1}])

    with pytest.raises(TargetInDoubt):
        target.deliver(delivery())
    receipt = target.deliver(delivery())

    assert receipt.created is False
    assert work_orders.app.counts()["orders"] == 1


def test_an_answer_too_slow_on_create_is_in_doubt(work_orders):
    target = RestTarget(WITHOUT_SEARCH, connection_to(work_orders, read_timeout="0.3"))
    work_orders.app.faults.set([{"operation": "/orders", "action": "delay", "seconds": 1, "phase": "after"}])

    with pytest.raises(TargetInDoubt, match="no answer in time"):
        target.deliver(delivery())


def test_the_reference_may_come_from_the_location_header(work_orders):
    config = {**WORK_ORDER_CONFIG, "reference": {"header": "Location"}}
    receipt = RestTarget(config, connection_to(work_orders)).deliver(delivery())

    assert receipt.external_ref.startswith("AO-")
    assert work_orders.app.order(receipt.external_ref)["externalRef"] == "brygga:sub-0001"


def test_clients_see_only_their_own_orders(work_orders):
    kumla = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders))
    orebro = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders, "workorder-orebro", login="orebro",
                                                         password="0ther"))
    first = kumla.deliver(delivery())
    # The same extern ref from another kommun's client is that kommun's own order, not a found one.
    second = orebro.deliver(delivery())

    assert second.created is True and second.external_ref != first.external_ref


# --- amendments -----------------------------------------------------------------------------------------


def test_an_amendment_goes_to_amend_with_only_its_new_documents(target, work_orders, store_document):
    drawing = store_document("Foto.jpg", b"\xff\xd8\xff first photo")
    receipt = target.deliver(delivery([drawing]))
    new_photo = store_document("Foto2.jpg", b"\xff\xd8\xff second photo")
    amendment = Amendment(external_ref=receipt.external_ref, revision=2, changed_fields=("description",))

    amended = target.deliver(delivery([new_photo], payload={"text": "Kompletterat med ett foto."},
                                      idempotency_key="sub-0001:rev2", amendment=amendment))

    assert (amended.external_ref, amended.created) == (receipt.external_ref, False)
    order = work_orders.app.order(receipt.external_ref)
    assert [note["text"] for note in order["notes"]] == ["Kompletterat med ett foto."]
    assert sorted(a["sha256"] for a in order["attachments"]) == sorted([drawing.sha256, new_photo.sha256])
    assert work_orders.app.counts()["orders"] == 1


def test_an_amendment_without_config_amend_is_refused_naming_it(work_orders):
    config = {key: value for key, value in WORK_ORDER_CONFIG.items() if key != "amend"}
    target = RestTarget(config, connection_to(work_orders))
    amendment = Amendment(external_ref="AO-2026-00001", revision=2)

    with pytest.raises(TargetRejected, match=r"revision 2.*config 'amend'"):
        target.deliver(delivery(amendment=amendment))
    assert work_orders.app.recorded == []
