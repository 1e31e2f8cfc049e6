"""The hub's dialplan (extensions.conf) for one Asterisk instance: pure text, no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voice.pbx_config import PbxPlan

# ``{name}`` fields come from the plan; Asterisk's own ``${VAR}`` and ``$[...]`` are escaped as
# ``${{VAR}}`` / ``$[...]`` (square brackets need no escaping).
DIALPLAN = """\
[general]
static=yes
writeprotect=yes

[hub-callers]
exten => _X.,1,Goto(hub-inbound,s,1)
exten => _[a-z].,1,Goto(hub-inbound,s,1)
exten => s,1,Goto(hub-inbound,s,1)

[hub-inbound]
exten => s,1,Answer()
 same => n,AGI(agi://{agi_host}:{agi_port}/inbound)
 same => n,GotoIf($["${{HUB_NEXT}}" = "wait"]?hub-wait,s,1)
 same => n,GotoIf($["${{HUB_NEXT}}" = "bot"]?hub-bot,s,1)
 same => n,Hangup()

; The voice bot (voice/bot_calls.py): the inbound AGI set HUB_BOT (the AudioSocket UUID), HUB_MEDIA
; (the hub's AudioSocket host:port) and HUB_REC. The bot part is recorded with the two directions
; apart (r: the caller, t: the bot's prompts). AudioSocket() returns when the hub closes the socket
; (handed over: bot_done sets HUB_NEXT=wait and music on hold) or the caller hangs up.
[hub-bot]
exten => s,1,Set(REC={recordings_dir}/${{HUB_REC}})
 same => n,MixMonitor(${{REC}}.wav,r(${{REC}}-caller.wav)t(${{REC}}-agent.wav))
 same => n,AudioSocket(${{HUB_BOT}},${{HUB_MEDIA}})
 same => n,StopMixMonitor()
 same => n,AGI(agi://{agi_host}:{agi_port}/bot_done)
 same => n,GotoIf($["${{HUB_NEXT}}" = "wait"]?hub-wait,s,1)
 same => n,Hangup()

[hub-wait]
exten => s,1,MusicOnHold({moh_class})
 same => n,Goto(s,1)

; The satisfaction survey by keypad (voice/keypad_survey.py): the hub redirects the caller here when
; the agent hangs up (the caller's channel lives on); the AGI asks and reads one key, then it ends.
; A call back's or an outbound call's customer arrives here by the agent leg's Dial F() option, with
; HUB_SURVEY_CALL (the hub's call id) inherited; an inbound caller's own unique id is the call id.
[hub-after-call]
exten => s,1,AGI(agi://{agi_host}:{agi_port}/survey)
 same => n,Hangup()

; A closed work order's callback survey (回访): the hub originates the call to the customer's number
; (HUB_ORDER: the order's id); once answered the AGI asks and reads one key.
[hub-order-survey]
exten => s,1,AGI(agi://{agi_host}:{agi_port}/order_survey)
 same => n,Hangup()

; Originated on the agent's phone (AMI Originate Context=hub-agent Exten=bridge, variables HUB_CALL,
; HUB_CALLER = the waiting caller's channel, HUB_REC = the recording's base name, one per answered leg).
; MixMonitor(file,options,command): b records only while bridged, r() is what the agent's phone sends
; (the agent), t() what it is sent (the caller).
; The agent's leg runs on past Bridge/Dial only when the customer left (an agent who hangs up ends her
; own leg there): it says so (UserEvent HubCustomerLeft) before it hangs up, so who ended the call does
; not depend on which of the two legs' Hangup events the PBX publishes first.
[hub-agent]
exten => bridge,1,Set(REC={recordings_dir}/${{HUB_REC}})
 same => n,MixMonitor(${{REC}}.wav,br(${{REC}}-agent.wav)t(${{REC}}-caller.wav))
 same => n,Bridge(${{HUB_CALLER}})
 same => n,GotoIf($["${{BRIDGERESULT}}" = "SUCCESS"]?left)
 same => n,Hangup()
 same => n(left),UserEvent(HubCustomerLeft)
 same => n,Hangup()
; A call back or an outbound call: the agent answered; her leg dials the customer (HUB_DIAL) and is
; bridged on answer (g: go on here when the customer hangs up). With HUB_SURVEY=yes (the hub's choice)
; F(): when she hangs up first, the customer goes on to the survey instead of being hung up with her.
exten => callback,1,Set(REC={recordings_dir}/${{HUB_REC}})
 same => n,MixMonitor(${{REC}}.wav,br(${{REC}}-agent.wav)t(${{REC}}-caller.wav))
 same => n,GotoIf($["${{HUB_SURVEY}}" = "yes"]?surveyed)
 same => n,Dial(${{HUB_DIAL}},30,g)
 same => n(dialled),GotoIf($["${{DIALSTATUS}}" = "ANSWER"]?left)
 same => n,Hangup()
 same => n(left),UserEvent(HubCustomerLeft)
 same => n,Hangup()
 same => n(surveyed),Set(__HUB_SURVEY_CALL=${{HUB_CALL}})
 same => n,Dial(${{HUB_DIAL}},30,gF(hub-after-call^s^1))
 same => n,Goto(dialled)

; Hold (AMI Redirect of both legs out of their bridge): the caller hears music, the agent silence;
; resuming bridges them again (AMI Bridge). The hub hangs up the other leg when one hangs up.
[hub-hold]
exten => s,1,MusicOnHold({moh_class})
 same => n,Goto(s,1)

[hub-held]
exten => s,1,Wait(3600)
 same => n,Goto(s,1)

[hub-agents]
exten => _X.,1,Hangup()
"""


def dialplan(plan: PbxPlan) -> str:
    """extensions.conf for ``plan`` (the recordings directory as Asterisk sees it, inside the chroot)."""
    return DIALPLAN.format(agi_host=plan.agi_host, agi_port=plan.agi_port, moh_class=plan.moh_class,
                           recordings_dir=plan.recordings())
