"""channels/webchat/parser.py: widget frames in, typed values or a FrameError with a stable code out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.webchat.parser import (
    MAX_RECEIPT_IDS,
    CustomerText,
    FrameError,
    Hello,
    Receipt,
    Typing,
    parse_frame,
)

MAX = 20
CLIENT = "cl_12345"


def parse(frame: Any, max_text_chars: int = MAX) -> object:
    raw = frame if isinstance(frame, str) else json.dumps(frame)
    return parse_frame(raw, max_text_chars=max_text_chars)


def refusal(frame: Any, max_text_chars: int = MAX) -> str:
    with pytest.raises(FrameError) as caught:
        parse(frame, max_text_chars)
    assert str(caught.value), "a refusal always carries a message for the widget"
    return caught.value.code


# --- valid frames ---------------------------------------------------------------------------------

def test_minimal_hello_has_defaults() -> None:
    expected = Hello(visitor_id=None, token=None, since=None, name=None, language="en")
    assert parse({"type": "hello"}) == expected


def test_full_hello() -> None:
    frame = {
        "type": "hello",
        "visitor": {"id": "v_abc", "token": "f00d"},
        "since": "2024-05-01T12:34:56.789Z",
        "name": "  Ana  ",
        "language": "pt",
    }
    assert parse(frame) == Hello(
        visitor_id="v_abc", token="f00d",
        since=datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=UTC),
        name="Ana", language="pt",
    )


def test_hello_since_with_offset_is_the_same_instant() -> None:
    hello = parse({"type": "hello", "since": "2024-05-01T14:34:56+02:00"})
    assert isinstance(hello, Hello)
    assert hello.since == datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC)
    assert hello.since.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("frame", [
    {"type": "hello", "visitor": None, "since": None, "name": None, "language": None},
    {"type": "hello", "visitor": {}, "since": "", "name": "   "},
], ids=["nulls", "empties"])
def test_hello_null_and_empty_fields_mean_absent(frame: dict[str, Any]) -> None:
    assert parse(frame) == Hello(visitor_id=None, token=None, since=None, name=None, language="en")


def test_message() -> None:
    result = parse({"type": "message", "client_id": CLIENT, "text": "  hello there  "})
    assert result == CustomerText(client_id=CLIENT, text="  hello there  ")


@pytest.mark.parametrize("client_id", ["abcdefgh", "A" * 64, "a-b_c-D_9", "12345678"])
def test_message_client_id_shapes_accepted(client_id: str) -> None:
    assert parse({"type": "message", "client_id": client_id, "text": "x"}) == CustomerText(
        client_id=client_id, text="x")


def test_message_repr_has_no_text() -> None:
    result = parse({"type": "message", "client_id": CLIENT, "text": "my card is 4111"})
    assert "4111" not in repr(result)


@pytest.mark.parametrize(("frame", "active"), [
    ({"type": "typing", "active": True}, True),
    ({"type": "typing", "active": False}, False),
    ({"type": "typing"}, False),
])
def test_typing(frame: dict[str, Any], active: bool) -> None:
    assert parse(frame) == Typing(active=active)


@pytest.mark.parametrize("kind", ["read", "delivered"])
def test_receipts(kind: str) -> None:
    result = parse({"type": kind, "message_ids": ["m_1", "m_2"]})
    assert result == Receipt(status=kind, message_ids=("m_1", "m_2"))


def test_receipt_empty_list() -> None:
    assert parse({"type": "read", "message_ids": []}) == Receipt(status="read", message_ids=())


def test_receipt_ids_are_capped() -> None:
    ids = [f"m_{i}" for i in range(MAX_RECEIPT_IDS + 5)]
    result = parse({"type": "delivered", "message_ids": ids})
    assert isinstance(result, Receipt)
    assert result.message_ids == tuple(ids[:MAX_RECEIPT_IDS])


# --- bad_json -------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "",
    "not json",
    "{",
    '{"type": "message", "client_id": "cl_12345", "text": "hel',   # truncated mid-string
    '{"type": "message"',                                          # truncated mid-object
    "{'type': 'hello'}",                                           # Python, not JSON
    '{"type": "hello",}',
])
def test_bad_json(raw: str) -> None:
    assert refusal(raw) == "bad_json"


# --- bad_frame ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["[]", '[{"type": "hello"}]', "42", "3.5", '"hello"', "null", "true"])
def test_non_object_json_is_bad_frame(raw: str) -> None:
    assert refusal(raw) == "bad_frame"


@pytest.mark.parametrize("frame", [
    {},
    {"type": None},
    {"type": "Hello"},
    {"type": "ack"},
    {"type": 1},
    {"type": ["hello"]},
    {"kind": "hello"},
])
def test_unknown_type_is_bad_frame(frame: dict[str, Any]) -> None:
    assert refusal(frame) == "bad_frame"


def test_unknown_type_message_is_bounded() -> None:
    with pytest.raises(FrameError) as caught:
        parse({"type": "x" * 10_000})
    assert len(str(caught.value)) < 100


@pytest.mark.parametrize("client_id", [
    None, 12345678, ["cl_12345"], "", "short", "1234567", "A" * 65, "has space", "dots.not.ok",
    "ümlaut123", "cl_12345\n", "tab\tidab",
], ids=repr)
def test_bad_client_id(client_id: Any) -> None:
    frame = {"type": "message", "text": "hi"}
    if client_id is not None:
        frame["client_id"] = client_id
    assert refusal(frame) == "bad_frame"


@pytest.mark.parametrize("text", ["", " ", "\n\t  ", "\u3000", None, 5, ["hi"], {"t": "hi"}, True], ids=repr)
def test_bad_text(text: Any) -> None:
    frame: dict[str, Any] = {"type": "message", "client_id": CLIENT}
    if text is not None:
        frame["text"] = text
    assert refusal(frame) == "bad_frame"


@pytest.mark.parametrize("since", [
    "yesterday", "2024-13-01T00:00:00Z", "2024-05-01T25:00:00Z", 1714566896, ["2024-05-01"], {"at": 1},
    "2024-05-01T12:00:00Z" + " " * 30,   # over the 40-character limit
], ids=repr)
def test_bad_since(since: Any) -> None:
    assert refusal({"type": "hello", "since": since}) == "bad_frame"


@pytest.mark.parametrize("since", ["2024-05-01T12:34:56", "2024-05-01T12:34:56.789", "2024-05-01"])
def test_since_without_timezone_is_refused(since: str) -> None:
    assert refusal({"type": "hello", "since": since}) == "bad_frame"


@pytest.mark.parametrize("visitor", ["v_abc", 7, ["v_abc"], True], ids=repr)
def test_visitor_must_be_an_object(visitor: Any) -> None:
    assert refusal({"type": "hello", "visitor": visitor}) == "bad_frame"


@pytest.mark.parametrize("visitor", [{"id": 7}, {"id": "v" * 65}, {"id": "v_a", "token": 1},
                                     {"id": "v_a", "token": "t" * 129}], ids=repr)
def test_visitor_fields_must_be_bounded_strings(visitor: dict[str, Any]) -> None:
    assert refusal({"type": "hello", "visitor": visitor}) == "bad_frame"


@pytest.mark.parametrize(
    "field", [{"name": 3}, {"name": "n" * 81}, {"language": ["en"]}, {"language": "x" * 11}], ids=repr
)
def test_hello_name_and_language_must_be_bounded_strings(field: dict[str, Any]) -> None:
    assert refusal({"type": "hello", **field}) == "bad_frame"


@pytest.mark.parametrize("kind", ["read", "delivered"])
@pytest.mark.parametrize("ids", [None, "m_1", {"m_1": True}, 3, ["m_1", 2], [None], [["m_1"]], ["m" * 65]],
                         ids=repr)
def test_bad_message_ids(kind: str, ids: Any) -> None:
    frame: dict[str, Any] = {"type": kind}
    if ids is not None:
        frame["message_ids"] = ids
    assert refusal(frame) == "bad_frame"


# --- too_long -------------------------------------------------------------------------------------

def test_text_of_exactly_the_limit_in_chinese_is_accepted() -> None:
    text = "你好世界客服中心" * 5  # 40 characters, 120 bytes in UTF-8
    assert len(text) == 40
    assert parse({"type": "message", "client_id": CLIENT, "text": text}, max_text_chars=40) == CustomerText(
        client_id=CLIENT, text=text)


def test_text_one_over_the_limit_in_chinese_is_too_long() -> None:
    text = "你好世界客服中心" * 5 + "谢"
    assert len(text) == 41
    assert refusal({"type": "message", "client_id": CLIENT, "text": text}, max_text_chars=40) == "too_long"


def test_limit_counts_characters_not_escaped_json() -> None:
    # json.dumps escapes non-ASCII as \uXXXX (6 characters each on the wire); the limit is on the text.
    raw = json.dumps({"type": "message", "client_id": CLIENT, "text": "中" * MAX}, ensure_ascii=True)
    assert parse_frame(raw, max_text_chars=MAX) == CustomerText(client_id=CLIENT, text="中" * MAX)


@pytest.mark.parametrize("limit", [1, 7, 4000])
def test_too_long_boundary(limit: int) -> None:
    ok = {"type": "message", "client_id": CLIENT, "text": "a" * limit}
    assert parse(ok, max_text_chars=limit) == CustomerText(client_id=CLIENT, text="a" * limit)
    assert refusal({**ok, "text": "a" * (limit + 1)}, max_text_chars=limit) == "too_long"


def test_bad_client_id_is_reported_before_length() -> None:
    assert refusal({"type": "message", "client_id": "x", "text": "a" * (MAX + 1)}) == "bad_frame"


# --- hostile but small frames: still a FrameError -------------------------------------------------
# The widget endpoint accepts frames up to 16 KiB (WebChatSettings.max_frame_bytes), so these fit.

def test_deeply_nested_json_is_refused_as_a_frame_error() -> None:
    raw = "[" * 2_000 + "]" * 2_000  # 4 KB; valid JSON, but deeper than json's recursion limit
    with pytest.raises(FrameError) as caught:
        parse_frame(raw, max_text_chars=MAX)
    assert caught.value.code in {"bad_json", "bad_frame"}


def test_deeply_nested_value_inside_a_message_is_refused_as_a_frame_error() -> None:
    raw = '{"type": "message", "x": ' + "[" * 2_000 + "]" * 2_000 + "}"
    with pytest.raises(FrameError) as caught:
        parse_frame(raw, max_text_chars=MAX)
    assert caught.value.code in {"bad_json", "bad_frame"}


def test_huge_integer_literal_is_refused_as_a_frame_error() -> None:
    raw = '{"type": "typing", "n": 1' + "0" * 5_000 + "}"  # 5 KB; over int's 4300-digit limit
    with pytest.raises(FrameError) as caught:
        parse_frame(raw, max_text_chars=MAX)
    assert caught.value.code in {"bad_json", "bad_frame"}


# --- property -------------------------------------------------------------------------------------

FRAME_TYPES = ["hello", "message", "typing", "read", "delivered"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
frame_like = st.fixed_dictionaries(
    {"type": st.sampled_from(FRAME_TYPES)},
    optional={
        "client_id": st.text(max_size=70) | json_values,
        "text": st.text(max_size=30) | json_values,
        "since": st.text(max_size=45) | json_values,
        "visitor": st.dictionaries(st.sampled_from(["id", "token"]), json_values) | json_values,
        "name": json_values, "language": json_values, "active": json_values,
        "message_ids": st.lists(st.text(max_size=5)) | json_values,
    },
).map(json.dumps)


def _frame_or_refusal(raw: str) -> None:
    try:
        result = parse_frame(raw, max_text_chars=MAX)
    except FrameError as err:
        assert err.code in {"bad_json", "bad_frame", "too_long"}
    else:
        assert isinstance(result, Hello | CustomerText | Typing | Receipt)


@settings(max_examples=500, database=None, deadline=None)
@given(raw=st.text())
def test_property_any_text_is_a_frame_or_a_frame_error(raw: str) -> None:
    _frame_or_refusal(raw)


@settings(max_examples=500, database=None, deadline=None)
@given(raw=frame_like)
def test_property_any_frame_shaped_json_is_a_frame_or_a_frame_error(raw: str) -> None:
    _frame_or_refusal(raw)


@settings(max_examples=200, database=None, deadline=None)
@given(raw=frame_like, cut=st.integers(min_value=1))
def test_property_truncated_json_is_bad_json(raw: str, cut: int) -> None:
    truncated = raw[: len(raw) - 1 - cut % len(raw)]  # strictly shorter than a JSON object
    with pytest.raises(FrameError) as caught:
        parse_frame(truncated, max_text_chars=MAX)
    assert caught.value.code == "bad_json"


def test_parsed_since_keeps_a_timezone() -> None:
    hello = parse({"type": "hello", "since": "2024-05-01T12:00:00-05:30"})
    assert isinstance(hello, Hello) and hello.since is not None
    assert hello.since.tzinfo is not None
    assert hello.since.utcoffset() == -timedelta(hours=5, minutes=30)
