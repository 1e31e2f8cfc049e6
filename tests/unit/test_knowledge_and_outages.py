"""Pure knowledge-base and outage decisions: search terms for Chinese and English, canned-reply
variables, sanitised article HTML, outage checks, answers and the sending rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.domain.knowledge import fill, index_terms, query_terms, rank, template_variables
from hub.domain.outages import (
    NoticeKind,
    Outage,
    allowance,
    area_key,
    check_outage,
    mentioned,
    notice_text,
    outage_answer,
    paced_origin,
)
from hub.errors import InvalidInput
from hub.knowledge import plain_text, render

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def matches(query: str, text: str) -> bool:
    return set(query_terms(query)) <= set(index_terms(text))


def test_a_chinese_word_inside_a_sentence_is_found() -> None:
    sentence = "如果您家突然停电，请先检查漏电保护器是否跳闸，再拨打95598报修。"  # noqa: RUF001
    assert matches("漏电保护器", sentence)
    assert matches("跳闸", sentence)
    assert matches("停电", sentence)
    assert matches("95598", sentence)
    assert not matches("电费", sentence)  # both characters occur, never side by side
    assert matches("电", sentence)  # one character alone


def test_english_words_mixed_scripts_and_width() -> None:
    text = "Pay your Bill online: 支付宝 or WeChat. \uff26\uff55\uff4c\uff4cwidth ok"  # full-width "Full"
    assert matches("bill", text) and matches("BILL online", text) and matches("wechat 支付", text)
    assert matches("fullwidth", text)
    assert not matches("billing", text)


def test_queries_that_are_empty_or_too_long_are_refused() -> None:
    with pytest.raises(InvalidInput):
        query_terms("  ,,, !!")
    with pytest.raises(InvalidInput):
        query_terms("x" * 201)


def test_rank_prefers_the_title() -> None:
    assert rank("停电", "停电怎么办", "正文") > rank("停电", "电费", "停电怎么办")


def test_canned_reply_variables() -> None:
    assert template_variables("您好{customer_name}，工单{order_number}已受理") == [  # noqa: RUF001
        "customer_name", "order_number"]
    with pytest.raises(InvalidInput, match=r"\{customer\}"):
        template_variables("Hello {customer}, your order {order_number}")
    with pytest.raises(InvalidInput):
        template_variables("   ")
    assert fill("Hi {customer_name}, order {order_number}", {"customer_name": "Ann"}) == "Hi Ann, order {order_number}"
    assert fill("JSON {\"a\": 1} stays", {}) == "JSON {\"a\": 1} stays"


def test_canned_reply_variables_chatwoot_style() -> None:
    assert template_variables("Hi {{contact.name}}, {{ agent.name }} here: {{conversation.id}} "
                              "{{contact.account_number}} {customer_name}") == [
        "contact.name", "agent.name", "conversation.id", "contact.account_number", "customer_name"]
    with pytest.raises(InvalidInput, match=r"\{\{contact\.password\}\}"):
        template_variables("Your password is {{contact.password}}")
    assert fill("Hi {{contact.name}} / {{ contact.meter_id }}", {"contact.name": "Ann"}) == (
        "Hi Ann / {{ contact.meter_id }}")


def test_markdown_is_rendered_and_sanitised() -> None:
    html = render("# 停电\n\n**先**检查 [map](https://e.org/x)\n\n<script>alert(1)</script>\n\n"
                  "<img src=x onerror=alert(1)> [bad](javascript:alert(1)) <a href=\"javascript:alert(2)\">x</a>")
    assert "<h1>停电</h1>" in html and "<strong>先</strong>" in html
    assert 'href="https://e.org/x"' in html and 'rel="noopener noreferrer nofollow"' in html
    lowered = html.lower()
    # No script element, no handler attribute, no javascript: link (the refused Markdown link stays inert text).
    assert "<script" not in lowered and "onerror" not in lowered and 'href="javascript' not in lowered
    assert plain_text("# 营业时间\n\n周一至周五 **8:00-18:00** &amp; more") == "营业时间\n周一至周五 8:00-18:00 & more"


def outage(area: str = "North District", **kw: object) -> Outage:
    return Outage(id="out_1", area=area, cause="cable fault", start=T0, expected_restoration=T0 + timedelta(hours=3),
                  **kw)  # type: ignore[arg-type]


def test_outage_checks() -> None:
    assert check_outage(area=" North   District ", cause="cable  fault", start=T0,
                        expected_restoration=T0 + timedelta(hours=1)) == ("North District", "cable fault")
    with pytest.raises(InvalidInput, match="after the start"):
        check_outage(area="a", cause="b", start=T0, expected_restoration=T0)
    with pytest.raises(InvalidInput, match="UTC offset"):
        check_outage(area="a", cause="b", start=T0.replace(tzinfo=None), expected_restoration=T0 + timedelta(hours=1))
    with pytest.raises(InvalidInput):
        check_outage(area="", cause="b", start=T0, expected_restoration=T0 + timedelta(hours=1))
    assert area_key("North  DISTRICT") == area_key("north district")


def test_notice_texts_fit_one_sms_and_say_the_times_locally() -> None:
    text = notice_text(outage(), NoticeKind.OUTAGE, SHANGHAI)
    assert "North District" in text and "12-03 16:00" in text and "12-03 19:00" in text and len(text) <= 70
    restored = notice_text(outage(restored_at=T0 + timedelta(hours=2)), NoticeKind.RESTORED, SHANGHAI)
    assert "恢复供电" in restored and "18:00" in restored


def test_the_bot_answer_from_the_outage_table() -> None:
    here = [outage()]
    assert "power cut in North District" in (outage_answer(here, "North District", "en", SHANGHAI) or "")
    assert "North District目前停电" in (outage_answer(here, "North District", "zh", SHANGHAI) or "")
    assert "no power cut on record for South" in (outage_answer([], "South", "en", SHANGHAI) or "")
    assert outage_answer([], None, "en", SHANGHAI) is None
    assert mentioned([outage(), outage("South")], "is the power off in north district?") == [outage()]


def test_allowance_keeps_the_rate_and_caps_bursts() -> None:
    assert allowance(rate_per_s=100, elapsed_s=0.0, sent=0, burst=10) == 0
    assert allowance(rate_per_s=100, elapsed_s=0.05, sent=0, burst=10) == 5
    assert allowance(rate_per_s=100, elapsed_s=2.0, sent=150, burst=10) == 10  # late tick: no flood
    assert allowance(rate_per_s=100, elapsed_s=1.0, sent=100, burst=10) == 0
    assert allowance(rate_per_s=100, elapsed_s=-1.0, sent=0, burst=10) == 0


def test_a_stall_banks_one_burst_not_the_whole_delay() -> None:
    """A sender stalled 10 s then ticking every 10 ms sends at most rate + burst in the next second."""
    rate, burst, began, sent, now = 100, 10, 0.0, 0, 10.0
    first_second = 0
    while now < 11.0:
        began = paced_origin(began_s=began, now_s=now, sent=sent, rate_per_s=rate, burst=burst)
        due = allowance(rate_per_s=rate, elapsed_s=now - began, sent=sent, burst=burst)
        sent, first_second, now = sent + due, first_second + due, now + 0.01
    assert first_second <= rate + burst, first_second
    assert paced_origin(began_s=5.0, now_s=5.5, sent=40, rate_per_s=rate, burst=burst) == 5.0  # on pace: kept
