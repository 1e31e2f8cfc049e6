"""The voice line's pure parts: who is surveyed after a call, and the dialplan that keeps a call
back's customer on the line for it (voice/line_parts.py, voice/dialplan.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.domain.calls import CallRecord, Party
from hub.domain.ids import ConversationId
from tests.unit.test_pbx_config import plan
from voice.line_parts import LineState, surveyed
from voice.pbx_config import render

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def record(**changes: object) -> CallRecord:
    values: dict[str, object] = {"call_id": "c1", "conversation_id": ConversationId("v1"), "caller": "+86138",
                                 "caller_channel": "PJSIP/customer-1", "started_at": T0, "answered_at": T0, **changes}
    return CallRecord(**values)  # type: ignore[arg-type]


def test_answered_calls_with_the_customer_on_the_line_are_surveyed_on_every_leg() -> None:
    assert surveyed(True, record())
    assert surveyed(True, record(callback=True))  # a call back (its customer leg is the Dial's)
    assert surveyed(True, record(callback=True, outbound=True))  # an agent's outbound call
    assert not surveyed(False, record())  # surveys off
    assert not surveyed(True, record(answered_at=None))  # nobody answered: nothing to rate
    assert not surveyed(True, record(callback=True, caller_channel=None))  # the customer not reached


def test_who_hung_up_a_call_backs_customer_leg() -> None:
    state = LineState(customer_legs={"leg-2": "c1"}, hangups={"leg-2": Party.AGENT})
    assert state.customer_hangup("c1") is Party.AGENT
    assert state.customer_hangup("c9") is Party.CALLER  # nobody asked the hub: the customer did
    state.channels["leg-2"] = "PJSIP/trunk-2"
    assert state.unique_id_of("PJSIP/trunk-2") == "leg-2" and state.unique_id_of(None) is None


def test_a_call_backs_dial_sends_the_customer_to_the_survey_only_when_the_hub_says_so() -> None:
    extensions = render(plan())["extensions.conf"]
    callback = extensions[extensions.index("exten => callback"):extensions.index("[hub-hold]")]
    assert 'GotoIf($["${HUB_SURVEY}" = "yes"]?surveyed)' in callback
    assert "Dial(${HUB_DIAL},30,g)" in callback  # surveys off: the customer's leg ends with hers
    assert "Set(__HUB_SURVEY_CALL=${HUB_CALL})" in callback  # inherited by the customer's leg
    assert "Dial(${HUB_DIAL},30,gF(hub-after-call^s^1))" in callback
    assert "[hub-after-call]\nexten => s,1,AGI(agi://127.0.0.1:4573/survey)" in extensions
