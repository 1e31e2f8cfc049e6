"""Settings: the store-and-forward channels: Telegram, SMS (Kannel), e-mail. Part of ``hub.config.Settings``."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator


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
    max_reply_segments: int = Field(
        30, ge=1, le=1000, description="Longest agent reply, in SMS segments: the composer counts them and the hub "
                                       "refuses a longer reply (400) instead of cutting it.")
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
