"""Pure rules of outbound messages: numbered quick replies, the customer's numbered answer,
the retry schedule, and the thread a reply joins."""

from __future__ import annotations

import pytest

from hub.domain.outbound import (
    RETRY_DELAYS_S,
    THREAD_REFERENCES,
    Route,
    chosen_button,
    next_attempt_delay,
    numbered_text,
    reply_route,
    thread_context,
)

BUTTONS = ({"title": "Pay my bill", "payload": "/pay_bill"}, {"title": "Talk to a person", "payload": "/human"})


def test_numbered_text_lists_the_buttons_after_the_text() -> None:
    assert numbered_text("What would you like to do?", BUTTONS) == (
        "What would you like to do?\n\n1. Pay my bill\n2. Talk to a person")
    assert numbered_text("No choices here.", ()) == "No choices here."


@pytest.mark.parametrize(("answer", "payload"), [
    ("1", "/pay_bill"), (" 2 ", "/human"), ("2.", "/human"), ("talk to a PERSON", "/human"),
    ("3", None), ("0", None), ("-1", None), ("²", None), ("I want 1 thing", None), ("", None),
    ("\uff12", "/human"),  # a full-width "2", as Chinese input methods type it
])
def test_a_numbered_or_titled_answer_chooses_a_button(answer: str, payload: str | None) -> None:
    assert chosen_button(answer, BUTTONS) == payload


def test_retry_schedule_grows_then_gives_up() -> None:
    delays = [next_attempt_delay(n) for n in range(1, len(RETRY_DELAYS_S) + 2)]
    assert delays[:-1] == list(RETRY_DELAYS_S) and delays[-1] is None
    assert delays[:-1] == sorted(delays[:-1])
    assert next_attempt_delay(0) is None


def test_thread_context_replies_to_the_last_inbound_and_references_everything() -> None:
    thread = [
        {"inbound": True, "external_id": "<a@customer>", "meta": {"subject": "My bill"}},
        {"inbound": False, "provider_ids": ["<r1@hub>"]},
        {"inbound": True, "external_id": "<b@customer>", "meta": {"subject": "Re: My bill"}},
        {"inbound": False},  # sent without a provider id: not part of the thread
    ]
    assert thread_context(thread) == {
        "reply_to": "<b@customer>", "subject": "Re: My bill",
        "references": "<a@customer> <r1@hub> <b@customer>",
    }
    assert thread_context([]) == {}


def test_a_long_threads_references_are_its_newest_ones_and_do_not_grow_with_it() -> None:
    thread = [{"inbound": n % 2 == 0, **({"external_id": f"<c{n}@customer>"} if n % 2 == 0
                                         else {"provider_ids": [f"<r{n}@hub>"]})} for n in range(2_000)]
    thread.append({"inbound": True, "external_id": "<c1998@customer>"})  # a resent one: no repeat
    references = thread_context(thread)["references"].split(" ")
    assert references == [f"<{'c' if n % 2 == 0 else 'r'}{n}@{'customer' if n % 2 == 0 else 'hub'}>"
                          for n in range(2_000 - THREAD_REFERENCES, 2_000)]
    assert thread_context(thread)["reply_to"] == "<c1998@customer>"


def test_a_reply_goes_where_the_customer_last_wrote_with_that_channels_thread() -> None:
    thread = [
        {"channel": "email", "inbound": True, "address": "ann@example.org", "external_id": "<a@customer>",
         "meta": {"subject": "Outage"}},
        {"channel": "email", "inbound": False, "provider_ids": ["<r1@hub>"]},
        {"channel": "sms", "inbound": True, "address": "+8613800138000", "external_id": "k-1",
         "meta": {"to": "95598"}},
    ]
    assert reply_route(thread, "email") == Route("sms", "+8613800138000",
                                                 {"reply_to": "k-1", "to": "95598", "references": "k-1"})
    assert reply_route(thread[:2], "sms") == Route("email", "ann@example.org", {
        "reply_to": "<a@customer>", "subject": "Outage", "references": "<a@customer> <r1@hub>"})


def test_without_an_address_a_reply_stays_on_the_conversations_channel() -> None:
    assert reply_route([], "webchat") == Route("webchat", None, {})
    no_address = [{"channel": "telegram", "inbound": True, "external_id": "7"}]
    assert reply_route(no_address, "telegram") == Route("telegram", None, {"reply_to": "7", "references": "7"})
    unknown = [{"channel": "fax", "inbound": True, "address": "123"}]
    assert reply_route(unknown, "sms").channel == "sms"
