"""Readable identities and customer attributes, pure (hub.domain.contact_details)."""

from __future__ import annotations

import pytest

from hub.domain.contact_details import clean_attributes, format_phone, readable, readable_all, visitor_tag
from hub.errors import InvalidInput


def test_identities_read_as_people_say_them() -> None:
    assert readable("sms:+8613800138000").label == "+86 138 0013 8000"
    assert format_phone("+4930123456") == "+49 3012 3456"
    assert format_phone("+14155550123") == "+1 415 555 0123"
    assert readable("email:ann@example.org").label == "ann@example.org"
    assert readable("telegram:123456").label == "Telegram user 123456"
    visitor = readable("webchat:v_abcdefgh1234")
    assert (visitor.kind, visitor.label) == ("visitor", "Web visitor")
    assert visitor.tag == visitor_tag("v_abcdefgh1234") and "abcdefgh" not in (visitor.tag or "")
    assert visitor_tag("v_abcdefgh1234") != visitor_tag("v_abcdefgh1235")
    assert [r.channel for r in readable_all(["merged:k_1", "sms:+8613800138000"])] == ["sms"]


def test_attributes_are_cleaned_and_only_known_keys_pass() -> None:
    assert clean_attributes({"account_number": "  A-1  2 ", "meter_id": None, "address": ""}) == (
        {"account_number": "A-1 2"}, ["meter_id", "address"])
    assert clean_attributes({"address": "北京市朝阳区 12号"})[0] == {"address": "北京市朝阳区 12号"}
    for bad in ({"colour": "red"}, {"meter_id": "x" * 41}, {"meter_id": "a\x00b"}, {"address": "a\u202eb"}):
        with pytest.raises(InvalidInput) as err:
            clean_attributes(bad)
        assert "x" * 41 not in str(err.value)
