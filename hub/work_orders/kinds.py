"""Work-order types and the fields each needs (pure): what the console form and the bot must give.

``validated_fields`` is the one check every way of opening an order goes through (the console's
API, the bot's repair report); it returns the fields cleaned, or raises ``InvalidInput`` naming
the first field that is missing or wrong.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.domain.text import require_valid_text
from hub.errors import InvalidInput

MAX_TEXT = 2000
MAX_SHORT = 200


class OrderType(enum.StrEnum):
    REPAIR = "repair"  # 故障报修: a crew goes out
    COMPLAINT = "complaint"  # 投诉
    CONSULTATION = "consultation"  # 咨询 that could not be answered on the spot
    METER = "meter"  # 计量: a meter checked or replaced
    BILLING_DISPUTE = "billing_dispute"  # 电费争议


class Area(enum.StrEnum):
    """Where a repair is: the utility's arrival commitment differs (45 / 90 / 120 minutes)."""

    URBAN = "urban"
    RURAL = "rural"
    REMOTE = "remote"


Check = Callable[[str], str]


def _text(limit: int) -> Check:
    def check(value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("is empty")
        if len(value) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return value
    return check


def _pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        value = value.strip()
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value
    return check


def _choice(enum_type: type[enum.StrEnum]) -> Check:
    def check(value: str) -> str:
        try:
            return enum_type(value.strip()).value
        except ValueError:
            raise ValueError(f"must be one of {', '.join(e.value for e in enum_type)}") from None
    return check


PHONE = _pattern(r"\+?[0-9][0-9 -]{5,19}", "a phone number (digits, optional +)")
TEXT, SHORT = _text(MAX_TEXT), _text(MAX_SHORT)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    check: Check
    required: bool = True
    label: str = ""


SPECS: Mapping[OrderType, tuple[FieldSpec, ...]] = {
    OrderType.REPAIR: (
        FieldSpec("address", SHORT, label="where the fault is"),
        FieldSpec("phone", PHONE, label="a number the crew can call"),
        FieldSpec("area", _choice(Area), label="urban, rural or remote (sets the arrival commitment)"),
        FieldSpec("description", TEXT, required=False, label="what the customer reports"),
    ),
    OrderType.COMPLAINT: (
        FieldSpec("subject", SHORT, label="what the complaint is about"),
        FieldSpec("description", TEXT, label="the customer's account"),
        FieldSpec("phone", PHONE, required=False, label="a number to call back"),
    ),
    OrderType.CONSULTATION: (
        FieldSpec("question", TEXT, label="what the customer asks"),
        FieldSpec("phone", PHONE, required=False, label="a number to call back"),
    ),
    OrderType.METER: (
        FieldSpec("meter_number", _pattern(r"[A-Za-z0-9-]{4,32}", "4-32 letters, digits or -"), label="the meter"),
        FieldSpec("address", SHORT, label="where the meter is"),
        FieldSpec("description", TEXT, label="what is wrong"),
    ),
    OrderType.BILLING_DISPUTE: (
        FieldSpec("account_number", _pattern(r"[0-9]{6,20}", "6-20 digits"), label="the customer account"),
        FieldSpec("bill_period", _pattern(r"[0-9]{4}-(0[1-9]|1[0-2])", "a month as YYYY-MM"), label="the bill"),
        FieldSpec("amount", _pattern(r"[0-9]{1,9}(\.[0-9]{1,2})?", "an amount like 123.45"),
                  label="the amount disputed"),
        FieldSpec("description", TEXT, label="why the customer disputes it"),
    ),
}


def order_type(value: object) -> OrderType:
    try:
        return OrderType(str(value))
    except ValueError:
        raise InvalidInput(f"unknown work-order type {value!r}; one of {', '.join(OrderType)}") from None


def validated_fields(kind: OrderType, fields: Mapping[str, object]) -> dict[str, str]:
    """The fields ``kind`` needs, checked and trimmed; unknown names and wrong values are refused."""
    specs = {spec.name: spec for spec in SPECS[kind]}
    unknown = sorted(set(fields) - set(specs))
    if unknown:
        raise InvalidInput(f"a {kind} order has no field {unknown[0]!r}; its fields: {', '.join(specs)}")
    cleaned: dict[str, str] = {}
    for name, spec in specs.items():
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                raise InvalidInput(f"a {kind} order needs {name} ({spec.label})")
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be text")
        require_valid_text(name, value)
        try:
            cleaned[name] = spec.check(value)
        except ValueError as err:
            raise InvalidInput(f"{name} {err}") from None
    return cleaned


def types_json() -> list[dict[str, object]]:
    """What each type needs, for the console's form (``GET /api/work_orders/types``)."""
    return [{"type": kind.value,
             "fields": [{"name": s.name, "required": s.required, "label": s.label} for s in specs]}
            for kind, specs in SPECS.items()]
