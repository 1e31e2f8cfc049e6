"""Kannel callback parsing: MO query strings (as Kannel 1.4.5 sends them), secrets, DLR status mapping."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

import pytest

from channels.sms.parser import SmsInputError, parse_dlr, parse_mo, query_fields, secret_ok
from hub.domain.ids import DeliveryStatus

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SECRET = b"s3cret-s3cret-s3cret"
# Recorded from Kannel 1.4.5 (get-url of scripts/kannel.sh; a UCS-2 MO from the fake SMSC, mo-recode on).
CHINESE = ("secret=s3cret-s3cret-s3cret&from=%2B8613800138000&to=10086"
           "&text=%E6%9F%A5%E8%AF%A2%E7%94%B5%E8%B4%B9&coding=0&charset=UTF-8"
           "&id=defa64c7-a022-494a-9a96-c0535e7ef153&ts=1795405358&smsc=fake1&udh=")
# The same MO with mo-recode off: the text is percent-encoded UTF-16BE.
CHINESE_UCS2 = ("secret=s3cret-s3cret-s3cret&from=%2B8613800138000&to=10086&text=g%E5%8B%E2u5%8D9"
                "&coding=2&charset=UTF-16BE&id=5b1d4a3e-0001-4c2e-9a96-c0535e7ef153&ts=1795405358&smsc=fake1&udh=")
PLAIN = ("secret=s3cret-s3cret-s3cret&from=%2B8613800138000&to=10086&text=++bill+++%2342+%26+100%25"
         "&coding=0&charset=UTF-8&id=7b792685-b439-4920-be40-6444178eed08&ts=1795405358&smsc=fake1&udh=")


def mo(query: str, max_text_chars: int = 2000):  # type: ignore[no-untyped-def]
    return parse_mo(query_fields(query, max_bytes=8000), received_at=NOW, max_text_chars=max_text_chars)


def test_chinese_mo_after_mo_recode() -> None:
    message = mo(CHINESE)
    assert (message.channel, message.sender, message.text) == ("sms", "+8613800138000", "查询电费")
    assert message.external_id == "kannel:defa64c7-a022-494a-9a96-c0535e7ef153"
    assert message.meta == {"to": "10086"} and message.received_at == NOW
    assert "查" not in repr(message) and "8613800138000" not in repr(message)


def test_chinese_mo_in_ucs2_is_decoded_by_its_charset() -> None:
    assert mo(CHINESE_UCS2).text == "查询电费"


def test_plain_text_keeps_its_exact_spacing_and_symbols() -> None:
    assert mo(PLAIN).text == "  bill   #42 & 100%"


def test_emoji_and_newlines_survive() -> None:
    text = urllib.parse.quote("电费😀ok\nline two")
    assert mo(CHINESE.replace("text=%E6%9F%A5%E8%AF%A2%E7%94%B5%E8%B4%B9", f"text={text}")).text == "电费😀ok\nline two"


def test_latin1_charset() -> None:
    query = PLAIN.replace("charset=UTF-8", "charset=ISO-8859-1").replace("text=++bill+++%2342+%26+100%25",
                                                                         "text=caf%E9")
    assert mo(query).text == "café"


@pytest.mark.parametrize("query, reason", [
    (CHINESE.replace("&id=defa64c7-a022-494a-9a96-c0535e7ef153", ""), "missing id"),
    (CHINESE.replace("from=%2B8613800138000", "from=bob%40example.org"), "bad from"),
    (CHINESE.replace("from=%2B8613800138000", "from=%2B86+138"), "bad from"),
    (CHINESE.replace("&text=%E6%9F%A5%E8%AF%A2%E7%94%B5%E8%B4%B9", ""), "missing text"),
    (CHINESE.replace("text=%E6%9F%A5", "text=%FF%FE"), "text does not decode in its charset"),
    (CHINESE.replace("charset=UTF-8", "charset=KLINGON"), "text does not decode in its charset"),
    (CHINESE.replace("coding=0", "coding=7"), "bad coding"),
    (CHINESE.replace("id=defa64c7", "id=<script>"), "bad id"),
    (CHINESE + "&broken", "malformed query"),
    (CHINESE.replace("text=%E6%9F%A5", "text=%00%E6%9F%A5"), "text contains NUL"),
])
def test_bad_mo_is_refused_with_a_reason_and_no_pii(query: str, reason: str) -> None:
    with pytest.raises(SmsInputError) as info:
        mo(query)
    assert info.value.reason == reason and info.value.status == 400
    assert "8613800138000" not in str(info.value)


def test_oversized_query_and_text_are_413() -> None:
    with pytest.raises(SmsInputError) as info:
        query_fields("text=" + "x" * 9000, max_bytes=8000)
    assert info.value.status == 413
    with pytest.raises(SmsInputError) as info:
        mo(CHINESE, max_text_chars=3)
    assert info.value.status == 413


def test_secret_is_compared_exactly() -> None:
    assert secret_ok(query_fields(CHINESE, max_bytes=8000), SECRET)
    assert not secret_ok(query_fields(CHINESE.replace("secret=s3cret", "secret=S3cret"), max_bytes=8000), SECRET)
    assert not secret_ok(query_fields("from=1", max_bytes=8000), SECRET)
    assert not secret_ok(query_fields("secret=", max_bytes=8000), SECRET)


def test_repeated_fields_keep_the_first() -> None:
    fields = query_fields("secret=a&secret=b&x=%41", max_bytes=100)
    assert fields == {"secret": b"a", "x": b"A"}


@pytest.mark.parametrize("code, status", [
    (1, DeliveryStatus.DELIVERED),
    (2, DeliveryStatus.FAILED),
    (4, DeliveryStatus.SENT),
    (8, DeliveryStatus.SENT),
    (16, DeliveryStatus.FAILED),
])
def test_dlr_status_mapping(code: int, status: DeliveryStatus) -> None:
    report = parse_dlr(query_fields(f"secret=x&ref=m_AbC-12_x&status={code}", max_bytes=1000))
    assert (report.ref, report.kannel_status, report.status) == ("m_AbC-12_x", code, status)


@pytest.mark.parametrize("query", ["ref=m_1&status=3", "ref=m_1&status=abc", "ref=m_1", "status=1",
                                   "ref=m%2F..%2F1&status=1", "ref=" + "m" * 65 + "&status=1"])
def test_bad_dlr(query: str) -> None:
    with pytest.raises(SmsInputError):
        parse_dlr(query_fields(query, max_bytes=1000))
