# ruff: noqa: RUF001 (Chinese punctuation in the Chinese notices)
"""What the customer is told at each milestone of a work order (pure): short texts that fit an SMS.

Chinese for conversations in Chinese, English otherwise; every notice names the order number, so a
customer with two orders knows which one moved, and the survey question asks about that number.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.work_orders.states import Action

SURVEY_SCALE = "1-5"

_EN: Mapping[Action, str] = {
    Action.CREATE: "Your request has been recorded as work order {number}. We will keep you informed.",
    Action.DISPATCH: "Work order {number} has been passed to {department}.",
    Action.REDISPATCH: "Work order {number} has been passed to {department}.",
    Action.REPLY: "Work order {number}: {text}",
    Action.CLOSE: "Work order {number} is closed. Thank you for your patience.",
    Action.REOPEN: "Work order {number} has been reopened; a supervisor will contact you.",
}
_ZH: Mapping[Action, str] = {
    Action.CREATE: "您的诉求已登记为工单{number}，我们会及时告知处理进展。",
    Action.DISPATCH: "工单{number}已派发至{department}处理。",
    Action.REDISPATCH: "工单{number}已转派至{department}处理。",
    Action.REPLY: "工单{number}处理结果：{text}",
    Action.CLOSE: "工单{number}已办结，感谢您的耐心。",
    Action.REOPEN: "工单{number}已重新开启，值班长将与您联系。",
}
_SURVEY = {
    "en": "Work order {number}: how satisfied are you? Reply {number} and a digit 1-5 "
          "(1 very dissatisfied, 5 very satisfied).",
    "zh": "工单{number}回访：请回复工单号和1-5的数字评价（1非常不满意，5非常满意）。",
}


def notice_text(action: Action, *, language: str, number: str, department: str = "", text: str = "") -> str | None:
    """The customer's text for ``action``, or None when it is not a milestone the customer hears of."""
    table = _ZH if language.startswith("zh") else _EN
    template = table.get(action)
    return template.format(number=number, department=department, text=text) if template else None


def survey_question(*, language: str, number: str) -> str:
    return _SURVEY["zh" if language.startswith("zh") else "en"].format(number=number)
