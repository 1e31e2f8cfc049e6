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
 same => n,Hangup()

[hub-wait]
exten => s,1,MusicOnHold({moh_class})
 same => n,Goto(s,1)

; Originated on the agent's phone (AMI Originate Context=hub-agent Exten=bridge, variables HUB_CALL
; and HUB_CALLER = the waiting caller's channel). MixMonitor(file,options,command): b records only
; while bridged, r() is what the agent's phone sends (the agent), t() what it is sent (the caller).
[hub-agent]
exten => bridge,1,Set(REC={recordings_dir}/${{HUB_CALL}})
 same => n,MixMonitor(${{REC}}.wav,br(${{REC}}-agent.wav)t(${{REC}}-caller.wav))
 same => n,Bridge(${{HUB_CALLER}})
 same => n,Hangup()

[hub-agents]
exten => _X.,1,Hangup()
"""


def dialplan(plan: PbxPlan) -> str:
    """extensions.conf for ``plan`` (the recordings directory as Asterisk sees it, inside the chroot)."""
    return DIALPLAN.format(agi_host=plan.agi_host, agi_port=plan.agi_port, moh_class=plan.moh_class,
                           recordings_dir=plan.recordings())
