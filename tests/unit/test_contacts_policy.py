"""Pure contact decisions: identity normalisation, merge plans, timeline cursors (who may merge:
test_visibility.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.domain.contacts import (
    ContactFacts,
    MergeAction,
    MergeRefused,
    clean_name,
    decode_cursor,
    encode_cursor,
    group_by_channel,
    inbound_key,
    normalise,
    plan_merge,
)
from hub.domain.ids import ContactId, ConversationId
from hub.errors import InvalidInput


@pytest.mark.parametrize(("channel", "raw", "key"), [
    ("sms", "+86 138-0013-8000", "sms:+8613800138000"),
    ("sms", "0086 (138) 0013.8000", "sms:+8613800138000"),
    ("voice", "+44 20 7946 0958", "sms:+442079460958"),
    ("email", "  Ann.Lee@Example.ORG ", "email:ann.lee@example.org"),
    ("telegram", " 123456789 ", "telegram:123456789"),
    ("webchat", "v_AbCdEf0123456789_-xy", "webchat:v_AbCdEf0123456789_-xy"),
])
def test_identities_are_normalised(channel: str, raw: str, key: str) -> None:
    assert normalise(channel, raw).key == key


@pytest.mark.parametrize(("channel", "raw"), [
    ("sms", "13800138000"),          # national: which country?
    ("sms", "+0123456789"),          # no country code starts with 0
    ("sms", "+1234567890123456"),    # 16 digits: longer than E.164 allows
    ("sms", "+86 138 abc"),
    ("email", "not-an-address"),
    ("email", "a@b"),
    ("email", "a b@example.org"),
    ("email", "x" * 250 + "@example.org"),
    ("telegram", "@someone"),
    ("webchat", "v_short"),
    ("fax", "+8613800138000"),
])
def test_bad_identities_are_refused_without_echoing_them(channel: str, raw: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalise(channel, raw)
    assert raw.strip() not in str(err.value) or channel == "fax"


def test_inbound_keys_never_refuse_and_match_what_agents_link() -> None:
    assert inbound_key("sms", "8613800138000") == normalise("sms", "+86 138 0013 8000").key
    assert inbound_key("email", "Ann@Example.org") == "email:ann@example.org"
    assert inbound_key("sms", "12345") == "sms:12345"  # a short code stays as the SMSC gave it
    assert repr(normalise("email", "ann@example.org")) == "Identity(email:…)"


def test_identities_are_grouped_by_channel_without_tombstone_placeholders() -> None:
    keys = ["sms:+8613800138000", "webchat:v_abcdefgh12", "email:a@b.org", "merged:k_1", "sms:+441234567"]
    assert group_by_channel(keys) == {"email": ["a@b.org"], "sms": ["+441234567", "+8613800138000"],
                                      "webchat": ["v_abcdefgh12"]}


def facts(cid: str, *, merged_into: str | None = None, open_id: str | None = None) -> ContactFacts:
    return ContactFacts(id=ContactId(cid), merged_into=ContactId(merged_into) if merged_into else None,
                        open_conversation_id=ConversationId(open_id) if open_id else None)


def test_merge_hands_the_only_open_conversation_to_the_survivor() -> None:
    plan = plan_merge(facts("a"), facts("b", open_id="c_b"))
    assert plan.action is MergeAction.MERGE and plan.hand_over_open == "c_b"
    plan = plan_merge(facts("a", open_id="c_a"), facts("b"))
    assert plan.action is MergeAction.MERGE and plan.hand_over_open is None
    assert plan_merge(facts("a"), facts("b")).hand_over_open is None


def test_merge_is_refused_when_both_have_an_open_conversation() -> None:
    with pytest.raises(MergeRefused) as err:
        plan_merge(facts("a", open_id="c_a"), facts("b", open_id="c_b"))
    assert err.value.status == 409


def test_a_repeated_merge_resumes_and_other_states_are_refused() -> None:
    assert plan_merge(facts("a"), facts("b", merged_into="a")).action is MergeAction.RESUME
    for survivor, other, status in [
        (facts("a"), facts("a"), 400),
        (facts("a"), facts("b", merged_into="c"), 409),
        (facts("a", merged_into="c"), facts("b"), 409),
    ]:
        with pytest.raises(MergeRefused) as err:
            plan_merge(survivor, other)
        assert err.value.status == status


def test_cursor_round_trip_and_bad_cursors() -> None:
    at = datetime(2026, 3, 1, 12, 30, 5, 123000, tzinfo=UTC)
    assert decode_cursor(encode_cursor(at, "m_x.y")) == (at, "m_x.y")
    for bad in ["", "abc", "12", ".m_1", "-5.m_1", "1." + "x" * 200]:
        with pytest.raises(InvalidInput):
            decode_cursor(bad)


def test_names_are_trimmed_and_bounded() -> None:
    assert clean_name("  Ann   Lee ") == "Ann Lee"
    for bad in ["", "   ", "x" * 121]:
        with pytest.raises(InvalidInput):
            clean_name(bad)
