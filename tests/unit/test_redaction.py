"""The log redactor: every configured secret and any bot token, from any logger, in any part of a record."""

from __future__ import annotations

import io
import logging

from pydantic import SecretStr

from hub.config import EmailSettings, MailboxSettings, Settings, SmsSettings, TelegramSettings
from hub.redaction import REDACTED, SecretRedactor, install_redaction, secrets_of

TOKEN = "987654321:AAH-abcdefghijklmnopqrstuvwxyz_01234"


def settings() -> Settings:
    return Settings(
        mongo_url=SecretStr("mongodb://hub:m0ngo-pass%2Fword@db.internal:27017/hub?replicaSet=rs0"),
        redis_url=SecretStr("redis://:r3dis-pass@cache.internal:6379/0"),
        secret_key=SecretStr("k" * 40),
        telegram=TelegramSettings(token=SecretStr(TOKEN), webhook_secret=SecretStr("hook-secret_1")),
        sms=SmsSettings(secret=SecretStr("kannel-callback-secret"), password=SecretStr("kannel-pw")),
        email=EmailSettings(smtp_password=SecretStr("smtp-pw"), mailboxes=[
            MailboxSettings(username="support", password=SecretStr("imap-pw-1")),
            MailboxSettings(username="billing", password=SecretStr("imap-pw-2"))]))


def test_every_secret_of_the_settings_tree_is_found_and_of_urls_only_the_password() -> None:
    found = set(secrets_of(settings()))
    assert {TOKEN, "hook-secret_1", "k" * 40, "kannel-callback-secret", "kannel-pw", "smtp-pw", "imap-pw-1",
            "imap-pw-2", "r3dis-pass", "m0ngo-pass%2Fword", "m0ngo-pass/word"} <= found
    assert not any("internal" in secret for secret in found)  # hosts stay readable
    assert "" not in secrets_of(Settings())


def test_a_handler_filter_redacts_records_of_every_logger_message_args_and_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    install_redaction(secrets_of(settings()), handlers=[handler])
    install_redaction(["added-later-secret"], handlers=[handler])  # idempotent: one filter, more secrets
    assert sum(isinstance(f, SecretRedactor) for f in handler.filters) == 1
    library = logging.getLogger("thirdparty.http.client")  # a child logger: its records reach root's handlers
    library.addHandler(handler)
    library.setLevel(logging.DEBUG)
    try:
        library.info("HTTP Request: POST %s \"HTTP/1.1 200 OK\"", f"https://api.example/bot{TOKEN}/sendMessage")
        library.debug("params %r", {"secret_token": "hook-secret_1", "pw": "m0ngo-pass/word"})
        library.info("other bot 1234567:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh_ and added-later-secret")
        try:
            raise RuntimeError(f"login failed for imap-pw-1 at /file/bot{TOKEN}/x.jpg")
        except RuntimeError:
            library.exception("mail.login.failed")
        library.warning("a %s format", "bad", "extra")  # logging's own error case keeps its parts redacted
    finally:
        library.removeHandler(handler)
    text = stream.getvalue()
    for secret in (TOKEN, "hook-secret_1", "m0ngo-pass", "imap-pw-1", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "added-later"):
        assert secret not in text, secret
    assert f"/bot{REDACTED}/sendMessage" in text and "RuntimeError: login failed for [redacted]" in text
