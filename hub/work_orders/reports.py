# ruff: noqa: RUF001 (Chinese punctuation in the patterns and texts)
"""A repair reported to the bot (pure): the address and phone number read from the customer's words.

Only a report that carries both an address and a number to call opens an order on its own; any
other goes on as before (the bot's own reply or the handover to the outages queue), so a vague
"my power is out" still reaches a person who asks the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.work_orders.kinds import Area

PHONE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9]{9}(?![0-9])|\+[0-9]{8,15}(?![0-9])")
ADDRESS_ZH = re.compile(r"(?:地址|住址|位置)(?:是|为|在)?[：: ]*([^，。,;；!！?？\n]{2,60})")
PLACE_ZH = re.compile(r"([^，。,;；!！?？\s]{1,30}(?:路|街|巷|道|村|小区|大厦)(?:[0-9一二三四五六七八九十]+"
                      r"(?:号楼|号|栋|单元|室|组|楼))*)")
ADDRESS_EN = re.compile(r"\baddress(?: is)?[: ]+([^,.;!?\n]{3,80})|\bat ([0-9]+[A-Za-z]? [^,.;!?\n]{2,60})",
                        re.IGNORECASE)
AREAS = ((Area.REMOTE, ("偏远", "山区", "海岛", "remote", "island", "mountain")),
         (Area.RURAL, ("农村", "村", "乡", "镇", "rural", "village", "farm")))


@dataclass(frozen=True, slots=True)
class RepairReport:
    address: str
    phone: str
    area: Area
    description: str

    def fields(self) -> dict[str, str]:
        return {"address": self.address, "phone": self.phone, "area": self.area.value,
                "description": self.description}

    def __repr__(self) -> str:  # an address and a phone number
        return f"RepairReport(area={self.area})"


def read_report(text: str, *, sender_phone: str | None) -> RepairReport | None:
    """The report in ``text``; the phone may be the SMS sender's. None without an address or a phone."""
    phone_match = PHONE.search(text)
    phone = re.sub(r"[ -]", "", phone_match.group(0)) if phone_match else sender_phone
    address = _address(text)
    if not phone or not address:
        return None
    lowered = text.lower()
    area = next((area for area, words in AREAS if any(w in lowered for w in words)), Area.URBAN)
    return RepairReport(address=address, phone=phone, area=area, description=text.strip()[:2000])


def _address(text: str) -> str | None:
    for pattern in (ADDRESS_ZH, ADDRESS_EN, PLACE_ZH):
        match = pattern.search(text)
        if match:
            found = next(g for g in match.groups() if g)
            found = re.sub(r"^.*?(?:在|位于|是)", "", PHONE.sub("", found).strip(" ，,。"))
            if len(found) >= 2:
                return found
    return None

