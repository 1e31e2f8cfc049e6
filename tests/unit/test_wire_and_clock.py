"""hub/clock.py's wire timestamps and hub/wire.py's message shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.clock import from_ms, iso, parse_iso, to_ms
from hub.domain.ids import Author, ChannelName, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import Message
from hub.wire import message_json

# --- clock ----------------------------------------------------------------------------------------

def test_iso_has_milliseconds_and_z() -> None:
    assert iso(datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=UTC)) == "2024-05-01T12:34:56.789Z"


def test_iso_pads_zero_milliseconds() -> None:
    assert iso(datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) == "2024-05-01T12:00:00.000Z"


def test_iso_truncates_microseconds() -> None:
    assert iso(datetime(2024, 5, 1, 12, 0, 0, 999999, tzinfo=UTC)) == "2024-05-01T12:00:00.999Z"


def test_iso_converts_other_offsets_to_utc() -> None:
    at = datetime(2024, 5, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert iso(at) == "2024-04-30T22:30:00.000Z"


def test_iso_of_none_is_none() -> None:
    assert iso(None) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T12:34:56.789Z", datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=UTC)),
    ("2024-05-01T12:34:56Z", datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC)),
    ("2024-05-01T12:34:56.789+00:00", datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=UTC)),
    ("2024-05-01T14:34:56.789+02:00", datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=UTC)),
])
def test_parse_iso(text: str, expected: datetime) -> None:
    parsed = parse_iso(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


def test_parse_iso_z_is_utc() -> None:
    assert parse_iso("2024-05-01T12:34:56.789Z").utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["2024-05-01T12:34:56.789", "2024-05-01T12:34:56", "2024-05-01"])
def test_parse_iso_rejects_naive_timestamps(text: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        parse_iso(text)


@pytest.mark.parametrize("text", ["", "now", "2024-05-01T25:00:00Z", "2024-02-30T00:00:00Z", "12:00Z"])
def test_parse_iso_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso(text)


aware_ms = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC),
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=300, database=None, deadline=None)
@given(at=aware_ms)
def test_property_iso_round_trip_is_exact_at_millisecond_precision(at: datetime) -> None:
    text = iso(at)
    assert text is not None and text.endswith("Z") and len(text) == len("2024-05-01T12:34:56.789Z")
    assert parse_iso(text) == at
    assert iso(parse_iso(text)) == text


@settings(max_examples=300, database=None, deadline=None)
@given(at=aware_ms, tz=offsets, micro=st.integers(0, 999))
def test_property_iso_is_utc_and_drops_sub_milliseconds(at: datetime, tz: timezone, micro: int) -> None:
    local = (at + timedelta(microseconds=micro)).astimezone(tz)
    assert parse_iso(iso(local) or "") == at


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("at", "ms"), [
    (EPOCH, 0),
    (datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=UTC), 1_714_566_896_789),
    (datetime(2004, 8, 26, 19, 20, 21, 317000, tzinfo=UTC), 1_093_548_021_317),
    (datetime(2038, 8, 8, 18, 4, 28, 22000, tzinfo=UTC), 2_164_903_468_022),
], ids=["epoch", "2024", "2004", "2038"])
def test_to_ms_is_exact(at: datetime, ms: int) -> None:
    assert (at - EPOCH) // timedelta(milliseconds=1) == ms  # the expectation, by integer arithmetic
    assert to_ms(at) == ms
    assert from_ms(ms) == at


MS_2100 = (datetime(2100, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)


@settings(max_examples=300, database=None, deadline=None)
@given(ms=st.integers(min_value=0, max_value=MS_2100))
def test_property_from_ms_is_exact(ms: int) -> None:
    assert from_ms(ms) == EPOCH + timedelta(milliseconds=ms)


# --- wire -----------------------------------------------------------------------------------------

SENT_AT = datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=UTC)
LIVE = frozenset({"webchat"})  # the live channels (hub.registry.ChannelRegistry.live with the shipped channels)


def message(*, channel: ChannelName = "webchat", private: bool = False,
            external_id: str | None = None, author: Author = Author.CUSTOMER) -> Message:
    return Message(
        id=MessageId("m_1"),
        conversation_id=ConversationId("c_1"),
        channel=channel,
        author=author,
        author_id="a_1",
        author_name="Ana",
        text="hello",
        sent_at=SENT_AT,
        status=DeliveryStatus.DELIVERED,
        private=private,
        external_id=ExternalId(external_id) if external_id is not None else None,
    )


BASE = {
    "id": "m_1", "conversation_id": "c_1", "author": "customer", "author_name": "Ana", "text": "hello",
    "sent_at": "2024-05-01T12:34:56.789Z", "status": "delivered", "channel": "webchat",
}


@pytest.mark.parametrize("private", [False, True])
def test_message_json_without_private_never_has_the_key(private: bool) -> None:
    assert message_json(message(private=private), live=LIVE, with_private=False) == BASE


@pytest.mark.parametrize("private", [False, True])
def test_message_json_with_private(private: bool) -> None:
    assert message_json(message(private=private), live=LIVE, with_private=True) == {**BASE, "private": private}


def test_message_json_includes_private_by_default() -> None:
    assert message_json(message(private=True), live=LIVE)["private"] is True


def test_message_json_does_not_leak_author_id() -> None:
    assert "author_id" not in message_json(message(author=Author.AGENT), live=LIVE, with_private=False)


@pytest.mark.parametrize(("external_id", "client_id"), [
    ("v_abc123:cl_12345", "cl_12345"),
    ("v_abc:cl:with:colons", "cl:with:colons"),   # split once: the visitor id has no colon
    ("cl_no_visitor", "cl_no_visitor"),
])
def test_message_json_derives_client_id_for_webchat(external_id: str, client_id: str) -> None:
    data = message_json(message(external_id=external_id), live=LIVE, with_private=False)
    assert data == {**BASE, "client_id": client_id}


@pytest.mark.parametrize("channel", ["sms", "email", "telegram", "voice"])
def test_message_json_has_no_client_id_outside_webchat(channel: ChannelName) -> None:
    data = message_json(message(channel=channel, external_id="v_abc:cl_12345"), live=LIVE, with_private=False)
    assert data == {**BASE, "channel": channel}


@pytest.mark.parametrize("external_id", [None, ""])
def test_message_json_has_no_client_id_without_external_id(external_id: str | None) -> None:
    assert "client_id" not in message_json(message(external_id=external_id), live=LIVE, with_private=False)


@settings(max_examples=200, database=None, deadline=None)
@given(private=st.booleans(), channel=st.sampled_from(["webchat", "sms", "email", "telegram", "voice"]),
       external_id=st.none() | st.text(max_size=40))
def test_property_private_never_leaves_without_with_private(
    private: bool, channel: ChannelName, external_id: str | None
) -> None:
    stored = message(channel=channel, private=private, external_id=external_id)
    data = message_json(stored, live=LIVE, with_private=False)
    assert "private" not in data
    assert set(data) - {"client_id"} == set(BASE)
