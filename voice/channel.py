"""The voice channel's registry entry: the PBX line (AMI + FastAGI) as one supervised loop."""

from __future__ import annotations

from hub.config import Settings
from hub.errors import InvalidInput
from hub.registry import Buttons, Capabilities, ChannelDeps, ChannelEntry, Loop
from hub.supervisor import Backoff
from voice.ami import AmiLost
from voice.ivr import Prompts
from voice.line import LineConfig, VoiceLine
from voice.menu import Menu

LINE = "channels:voice:line"


def channel(settings: Settings, deps: ChannelDeps) -> ChannelEntry | None:
    """On when ``HUB_VOICE__AMI_PORT`` is set. One process at a time holds the line (lease)."""
    line = voice_line(settings, deps)
    if line is None:
        return None
    return ChannelEntry(
        name="voice", calls=line, listen=line.listen,
        loops=(Loop(name=LINE, work=line.run, lease="voice:line", backoff=Backoff(first_s=0.5, max_s=10.0),
                    quiet=(AmiLost,)),),
        # A call carries no text: no sender, nothing pushed live; buttons are the menu's digits.
        capabilities=Capabilities(buttons=Buttons.NUMBERED, max_text_chars=None, receipts=False, live=False))


def voice_line(settings: Settings, deps: ChannelDeps) -> VoiceLine | None:
    voice = settings.voice
    if voice.ami_port is None:
        return None
    if not voice.ami_secret.get_secret_value():
        raise InvalidInput("HUB_VOICE__AMI_SECRET is required when voice is enabled (HUB_VOICE__AMI_PORT)")
    menu = Menu(choices=dict(voice.menu), default_queue=voice.default_queue, attempts=voice.menu_attempts,
                callback=voice.callback_digit)
    prompts = Prompts(greeting=voice.greeting_prompt, menu=voice.menu_prompt, invalid=voice.invalid_prompt,
                      wait=voice.wait_prompt, callback=voice.callback_prompt)
    ring_s = voice.ring_timeout_s or max(1.0, settings.routing.offer_timeout_s - 1.0)
    config = LineConfig(ami_host=voice.ami_host, ami_port=voice.ami_port, ami_user=voice.ami_user,
                        ami_secret=voice.ami_secret.get_secret_value(), ami_timeout_s=voice.ami_timeout_s,
                        ami_ping_s=voice.ami_ping_s, agi_host=voice.agi_host, agi_port=voice.agi_port,
                        agi_timeout_s=voice.agi_timeout_s, agent_endpoint=voice.agent_endpoint, dial_out=voice.dial_out,
                        ring_timeout_s=ring_s, menu=menu, prompts=prompts, digit_timeout_s=voice.menu_timeout_s,
                        phones_file=voice.phones_file, phone_secret=settings.secret_key.get_secret_value().encode(),
                        phones_sync_s=voice.phones_sync_s)
    return VoiceLine(config, calls=deps.calls, directory=deps.directory)
