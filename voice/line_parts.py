"""The voice line's configuration, its picture of the PBX, and small pure helpers (``voice.line``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.domain.calls import CallRecord, Party, Step
from voice.ami import succeeded
from voice.ivr import Prompts
from voice.menu import Menu

EVENTS = ("Newchannel", "Hangup", "DialBegin", "DialEnd", "UserEvent")
CUSTOMER_LEFT = "HubCustomerLeft"  # the dialplan: the agent's leg goes on because the customer left
ORIGINATE_REASONS = {"0": "failed", "1": "no_such_number", "3": "no_answer", "4": "answered", "5": "busy",
                     "8": "congestion"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LineConfig:
    ami_host: str
    ami_port: int
    ami_user: str
    ami_secret: str
    ami_timeout_s: float
    ami_ping_s: float
    agi_host: str
    agi_port: int
    agi_timeout_s: float
    agent_endpoint: str  # "PJSIP/agent-{username}"
    dial_out: str  # "PJSIP/{number}@trunk": a call back to the customer
    ring_timeout_s: float
    menu: Menu
    prompts: Prompts
    digit_timeout_s: float
    phones_file: Path | None = None  # where the agents' endpoints go (pjsip_agents.conf); None: not ours
    phone_secret: bytes = b""  # derives the agents' SIP passwords (voice/phones.py)
    phones_sync_s: float = 10.0
    survey_after_call: bool = False  # the agent hung up: the caller goes to the keypad survey (``hub-after-call``)


@dataclass(slots=True)
class Leg:
    """An agent's leg this line originated (``unique_id`` is ours: AMI ``ChannelId``).
    ``dial_to_survey``: her leg's ``Dial`` (a call back, an outbound call) sends the customer to the
    survey by itself when she hangs up (``F`` option); a hold ends that ``Dial``."""

    call_id: str
    conversation_id: str
    agent_id: str
    unique_id: str
    answered: bool = False
    dial_to_survey: bool = False


@dataclass(slots=True)
class LineState:
    """What the line knows of the PBX right now (rebuilt at every login)."""

    channels: dict[str, str] = field(default_factory=dict)  # unique id -> channel name
    calls_of: dict[str, str] = field(default_factory=dict)  # conversation id -> call id
    legs: dict[str, Leg] = field(default_factory=dict)  # agent leg unique id -> leg
    leg_of_call: dict[str, str] = field(default_factory=dict)  # call id -> its current agent leg
    hangups: dict[str, Party] = field(default_factory=dict)  # customer leg id -> who asked the hub to hang up
    customer_legs: dict[str, str] = field(default_factory=dict)  # a call back's customer leg id -> call id
    left_by_customer: set[str] = field(default_factory=set)  # agent legs whose customer hung up

    def unique_id_of(self, channel: str | None) -> str | None:
        """The unique id of the live channel named ``channel``."""
        if channel is None:
            return None
        return next((uid for uid, name in self.channels.items() if name == channel), None)

    def customer_hangup(self, call_id: str) -> Party:
        """Who ended the customer's leg of ``call_id``: the agent when the hub hung it up for her."""
        customer = next((uid for uid, call in self.customer_legs.items() if call == call_id), call_id)
        return self.hangups.get(customer, Party.CALLER)

    def forget_leg(self, leg: Leg) -> None:
        self.legs.pop(leg.unique_id, None)
        if self.leg_of_call.get(leg.call_id) == leg.unique_id:
            self.leg_of_call.pop(leg.call_id, None)


def surveyed(on: bool, record: CallRecord) -> bool:
    """Pure: the customer of this call hears the keypad survey once the agent hangs up: an answered
    call (inbound, a call back or an outbound call) whose customer is on the line, surveys on."""
    return on and record.answered_at is not None and record.caller_channel is not None


def ringing_agent(record: CallRecord) -> str:
    """The agent whose phone rang last (the last ``ringing`` step)."""
    for step in reversed(record.steps):
        if step.step is Step.RINGING:
            return str(step.detail.get("agent_id", ""))
    return ""


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (mode 600: it holds the phones' passwords)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.chmod(0o600)
    temporary.replace(path)


def dialable(number: str) -> str:
    """The caller's number as a dial string part: digits, ``+`` and ``*#`` only (it came from the PBX,
    but a dial string must never carry ``,``, ``&`` or ``/`` that would change what is dialled)."""
    return "".join(ch for ch in number if ch.isalnum() or ch in "+*#")


def originate_reason(answer: Any) -> str:
    """``answered`` or why not, from panoramisk's ``[Response, OriginateResponse]`` list."""
    if not isinstance(answer, list):
        return "failed" if answer is None else ("queued" if succeeded(answer) else "failed")
    for message in answer:
        if message.get("Event") == "OriginateResponse":
            if str(message.get("Response", "")).lower() == "success":
                return "answered"
            return ORIGINATE_REASONS.get(str(message.get("Reason", "")), "failed")
    return "failed"
