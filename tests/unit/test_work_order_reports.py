"""A repair reported to the bot: the address and phone read from the customer's words (pure)."""

from __future__ import annotations

import pytest

from hub.work_orders.kinds import Area, OrderType, validated_fields
from hub.work_orders.reports import read_report


@pytest.mark.parametrize(("text", "sender", "address", "phone", "area"), [
    ("家里停电了，地址是人民路12号，电话13900139000", None, "人民路12号", "13900139000", Area.URBAN),  # noqa: RUF001
    ("全村停电了，地址：李家村3组", "+8613700137000", "李家村3组", "+8613700137000", Area.RURAL),  # noqa: RUF001
    ("my power is out, address: 12 Oak Street, call +447700900123", None, "12 Oak Street", "+447700900123",
     Area.URBAN),
    ("no power at 7 Harbour Road on the island, 13800138000", None, "7 Harbour Road on the island",
     "13800138000", Area.REMOTE),
    ("停电了，在解放路8号", "+8613600136000", "解放路8号", "+8613600136000", Area.URBAN),  # noqa: RUF001
    ("报修，人民路12号停电了，电话13900139000", None, "人民路12号", "13900139000", Area.URBAN),  # noqa: RUF001
    ("我家在幸福小区3栋2单元停电了", "+8613600136000", "幸福小区3栋2单元", "+8613600136000", Area.URBAN),
])
def test_a_report_with_address_and_phone(text: str, sender: str | None, address: str, phone: str,
                                         area: Area) -> None:
    report = read_report(text, sender_phone=sender)
    assert report is not None
    assert (report.address, report.phone, report.area) == (address, phone, area)
    assert validated_fields(OrderType.REPAIR, report.fields())["area"] == area.value
    assert "13" not in repr(report) and address not in repr(report)


@pytest.mark.parametrize(("text", "sender"), [
    ("my power is out", "+8613600136000"),  # no address: a person asks
    ("停电了", None),
    ("地址是人民路12号", None),  # no phone at all
])
def test_not_enough_to_open_an_order(text: str, sender: str | None) -> None:
    assert read_report(text, sender_phone=sender) is None

