"""The voice channel's registry entry: the PBX line (AMI + FastAGI) as one supervised loop."""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath

from hub.call_ports import CallLine
from hub.config import Settings
from hub.errors import InvalidInput
from hub.registry import Buttons, Capabilities, ChannelDeps, ChannelEntry, Loop
from hub.supervisor import Backoff
from voice.ami import AmiLost
from voice.bot_calls import BotCalls, BotLineConfig
from voice.endpointing import EndpointConfig
from voice.ivr import Prompts
from voice.keypad_survey import AfterCallSurvey, CallSurveys, PhonePrompts, SurveyPrompts
from voice.line import VoiceLine
from voice.line_parts import LineConfig
from voice.menu import Menu
from voice.order_survey import OrderSurveyCalls, OrderSurveyPort
from voice.tts import PromptCache, Voice
from voice.voice_bot import Spoken, VoiceBotConfig

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
        # No sender: the caller holds the line, so the voice bot's replies are spoken in the call (live),
        # never queued for an outbox; buttons are digits ("say ... or press N").
        capabilities=Capabilities(buttons=Buttons.NUMBERED, max_text_chars=None, receipts=False, live=True))


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
                        phones_sync_s=voice.phones_sync_s,
                        survey_after_call=surveyed(settings))
    return VoiceLine(config, calls=deps.calls, directory=deps.directory, bot=bot_calls(settings, deps))


def bot_calls(settings: Settings, deps: ChannelDeps) -> BotCalls | None:
    """The voice bot (``HUB_VOICE_BOT__ENTRY``): needs the bot (Rasa) and the language's speech model."""
    bot = settings.voice_bot
    if bot.entry == "off":
        return None
    if deps.voice_bot is None:
        raise InvalidInput("HUB_VOICE_BOT__ENTRY needs the bot: set HUB_BOT__RASA_URL")
    spoken = bot.languages.get(bot.language)
    if spoken is None or spoken.model is None:
        raise InvalidInput(f"HUB_VOICE_BOT__LANGUAGES has no speech model for the language {bot.language!r}")
    dialogue = VoiceBotConfig(
        language=bot.language, grammar=bot.grammar, silence_s=bot.silence_s, attempts=bot.attempts,
        preroll_ms=bot.preroll_ms,
        endpointing=EndpointConfig(threshold=bot.threshold, start_ms=bot.start_ms, end_silence_ms=bot.end_silence_ms,
                                   barge_in_ms=bot.barge_in_ms),
        spoken=Spoken(voice=Voice(name=spoken.voice, speed=spoken.speed), greeting=spoken.greeting,
                      reprompt=spoken.reprompt, no_match=spoken.no_match, handover=spoken.handover,
                      choice=spoken.choice))
    models = {language: entry.model for language, entry in bot.languages.items()
              if entry.model is not None and language == bot.language}
    config = BotLineConfig(dialogue=dialogue, models=models, media_host=bot.media_host, media_port=bot.media_port,
                           prompts_dir=bot.prompts_dir, entry=bot.entry, menu_digit=bot.menu_digit)
    return BotCalls(config, calls=deps.calls, sessions=deps.sessions, history=deps.history, ports=deps.voice_bot,
                    clock=deps.clock)


def phone_prompts(settings: Settings) -> tuple[PhonePrompts, SurveyPrompts]:
    """The surveys' spoken prompts: made in ``<recordings_dir>/prompts``, played by Asterisk from the
    same directory as it sees it (``recordings_dir_pbx``)."""
    voice = settings.voice
    pbx_dir = PurePosixPath(voice.recordings_dir_pbx or str(voice.recordings_dir)) / "prompts"
    prompts = PhonePrompts(PromptCache(voice.recordings_dir / "prompts", rate=8000), voice.recordings_dir / "prompts",
                           pbx_dir)
    texts = SurveyPrompts(question=voice.survey_question, thanks=voice.survey_thanks, goodbye=voice.survey_goodbye,
                          voice=Voice(name=voice.survey_voice), timeout_s=voice.survey_timeout_s)
    return prompts, texts


def attach_surveys(settings: Settings, line: object, calls: CallLine, surveys: CallSurveys) -> None:
    """Wiring (hub/bootstrap.py): the keypad survey after a call, on the process's voice line."""
    if not isinstance(line, VoiceLine) or not surveyed(settings):
        return
    prompts, texts = phone_prompts(settings)
    line.add_script("survey", AfterCallSurvey(calls=calls, surveys=surveys, prompts=prompts, texts=texts))


def surveyed(settings: Settings) -> bool:
    return settings.voice.survey_after_call and settings.surveys.enabled and settings.surveys.voice


def attach_order_surveys(settings: Settings, line: object, port: OrderSurveyPort) -> OrderSurveyCalls | None:
    """Wiring (hub/bootstrap.py): closed work orders' callback surveys as calls on this process's line;
    the caller subscribes ``on_due`` to ``SurveyCallDue``."""
    if not isinstance(line, VoiceLine):
        return None
    prompts, texts = phone_prompts(settings)
    texts = replace(texts, question=settings.work_orders.survey_call_question)
    voice = settings.voice
    calls = OrderSurveyCalls(port=port, ami=lambda: line.ami, dial_out=voice.dial_out,
                             ring_timeout_s=voice.survey_ring_timeout_s, ami_timeout_s=voice.ami_timeout_s,
                             prompts=prompts, texts=texts)
    line.add_script("order_survey", calls)
    return calls
