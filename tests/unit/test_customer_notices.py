"""What the customer is told (hub/domain/customer_notices.py): which event, which language, which text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.domain.customer_notices import OfflineMessage, Waiting, handover_text, notice_language, should_tell

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("event_type", "from_state", "to_state", "channel", "expected"), [
    ("handed_over", "bot", "queued", "sms", "handover"),
    ("queued", "new", "queued", "webchat", "handover"),
    ("offer_timed_out", "offered", "queued", "webchat", None),  # back in line: told once is enough
    ("transferred", "assigned", "queued", "webchat", None),
    ("resolved", "assigned", "resolved", "email", "resolved"),
    ("resolved", "wrap_up", "resolved", "telegram", "resolved"),
    ("resolved", "bot", "resolved", "webchat", None),  # the bot's own ending: no human was there
    ("handed_over", "bot", "queued", "voice", None),  # callers hear prompts
])
def test_which_event_calls_for_which_notice(event_type: str, from_state: str, to_state: str, channel: str,
                                            expected: str | None) -> None:
    assert should_tell(event_type=event_type, from_state=from_state, to_state=to_state, channel=channel) == expected


def test_the_language_is_the_customers() -> None:
    assert notice_language("en", "我的电表不走了") == "zh"
    assert notice_language("zh-CN", "meter 12345") == "zh"
    assert notice_language("en", "my meter") == "en"
    assert notice_language("fr", None) == "en"


def test_the_handover_text_says_what_is_known_and_nothing_more() -> None:
    opens = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert handover_text("en", Waiting(opens=opens), SHANGHAI, {}) == (
        "We are closed now. We open at Mon 07 Dec 08:00; an agent will answer your message then.")
    assert "2026-12-07 08:00" in handover_text("zh", Waiting(opens=opens), SHANGHAI, {})
    assert handover_text("en", Waiting(position=3), SHANGHAI, {}) == (
        "Connecting you to an agent. You are number 3 in the queue.")
    assert handover_text("zh", Waiting(), SHANGHAI, {}) == "正在为您转接人工客服。"
    assert handover_text("en", Waiting(position=2), SHANGHAI, {"en": {"position": "#{position}"}}) == "#2"


def test_the_offline_form_answers_where_the_customer_said() -> None:
    form = OfflineMessage(name="Ann", email="ann@example.com", phone="+8613800138000", text="hi", queue="general",
                          language="zh")
    assert form.way_back() == ("email", "ann@example.com") and form.meta() == {"subject": "您给客服的留言"}
    sms = OfflineMessage(name="Ann", email=None, phone="+8613800138000", text="hi", queue="general", language="en")
    assert sms.way_back() == ("sms", "+8613800138000") and sms.meta() == {}
    assert "ann" not in repr(form).lower()


def test_the_expected_wait_needs_enough_answers() -> None:
    from hub.domain.customer_notices import expected_minutes

    assert expected_minutes(2, 600_000) is None
    assert expected_minutes(3, 3 * 90_000) == 2  # 90 s on average: about 2 min
    assert expected_minutes(4, 4_000) == 1
    assert handover_text("en", Waiting(position=2, minutes=2), SHANGHAI, {}) == (
        "Connecting you to an agent. You are number 2 in the queue; the expected wait is about 2 min.")
    assert handover_text("zh", Waiting(position=2, minutes=2), SHANGHAI, {}).endswith("预计等待约 2 分钟。")
