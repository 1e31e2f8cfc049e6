"""The Telegram channel adapter: sends staff messages, receives customers' updates (webhook or polling).

``TelegramChannel`` is the outbox's ``ChannelSender`` for ``telegram`` and the one place an
update becomes an ``InboundMessage``: parse, fetch its files, hand it to the inbound port
(``hub.ports.Inbox``), then answer the button press. Only after ``accept_inbound`` returned is an
update acknowledged (webhook: 200; polling: the next offset), so a crash or a MongoDB outage loses
nothing. Registering the webhook and polling are loops run by ``hub.supervisor`` (``loops()``).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from channels.telegram.client import FileTooLarge, TelegramClient
from channels.telegram.errors import describe, is_transient, send_error
from channels.telegram.parser import FileRef, ParsedUpdate, parse_update
from channels.telegram.policy import ReceiveMode, keyboard_fits, receive_mode, split_text
from hub.clock import Clock
from hub.config import TelegramSettings
from hub.domain.ids import ChannelName, ExternalId
from hub.domain.model import Attachment, InboundMessage
from hub.domain.outbound import Outbound, SendResult, numbered_text
from hub.errors import ChannelSendError, ServiceUnavailable
from hub.ports import Inbox
from hub.registry import Loop
from hub.supervisor import Backoff, Health

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/channels/telegram/webhook"
BACKOFF = Backoff(first_s=0.5, max_s=30.0)
MAX_UPDATE_ATTEMPTS = 5  # polling: then an update that keeps failing is skipped


class TelegramChannel:
    """Lifecycle: ``async with`` opens the Bot API connections; ``loops()`` (run by the supervisor
    once the hub can take messages) registers the webhook or runs the long poll."""

    channel: ChannelName = "telegram"

    def __init__(self, settings: TelegramSettings, *, inbox: Inbox, clock: Clock, public_url: str | None) -> None:
        self._settings = settings
        self._client = TelegramClient(settings)
        self._inbox = inbox
        self._clock = clock
        base = settings.public_url or public_url
        self.webhook_url = f"{base.rstrip('/')}{WEBHOOK_PATH}" if base else None
        self.mode: ReceiveMode = receive_mode(settings.mode, base, settings.webhook_secret is not None)
        self._failing, self._failures = -1, 0  # polling: the update that failed last, how often
        self._offset = 0  # polling: the next update wanted (kept across restarts of the loop)

    @property
    def webhook_secret(self) -> bytes | None:
        """What the webhook must carry; None in polling mode (every webhook request is refused)."""
        secret = self._settings.webhook_secret
        return secret.get_secret_value().encode() if secret is not None and self.mode == "webhook" else None

    @property
    def max_update_bytes(self) -> int:
        return self._settings.max_update_bytes

    async def __aenter__(self) -> TelegramChannel:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.__aexit__(*exc)

    # -- out ----------------------------------------------------------------------------------------
    async def send(self, outbound: Outbound) -> SendResult:
        """sendMessage to the customer's private chat (address = chat id); quick replies as inline
        buttons (as numbered text when a payload is too long for callback data). Long texts go
        as several messages, the buttons on the last. Not idempotent: Telegram has no dedupe key.

        Raises:
            ChannelSendError: retryable for 429 (with ``retry_after_s``), timeouts, 5xx and an
                unreachable API; permanent for 400 (chat not found), 403 (blocked) and 401.
        """
        try:
            chat_id = int(outbound.address)
        except ValueError:
            raise ChannelSendError("telegram address is not a chat id", retryable=False) from None
        buttons = outbound.buttons if keyboard_fits(outbound.buttons) else ()
        text = outbound.text if buttons or not outbound.buttons else numbered_text(outbound.text, outbound.buttons)
        chunks = split_text(text)
        ids: list[str] = []
        try:
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                ids.append(str(await self._client.send_text(chat_id, chunk, buttons if last else ())))
        except TelegramError as err:
            raise send_error(err) from err
        return SendResult(provider_ids=tuple(f"{chat_id}:{i}" for i in ids))

    # -- in -----------------------------------------------------------------------------------------
    async def receive(self, update: Update) -> None:
        """Store one update's message (idempotent on its external id), then answer a button press.

        Raises:
            ServiceUnavailable: Telegram (a file download) or our storage failed for now; the
                update must be delivered again (webhook: answer 5xx; polling: keep the offset).
        """
        parsed = parse_update(update, self._clock.now())
        if parsed is None:
            logger.debug("telegram.update.ignored update_id=%s", update.update_id)
            return
        attachments, refused = await self._fetch(parsed.files)
        text = parsed.text + ("\n[a file larger than the limit was not stored]" if refused else "")
        inbound = InboundMessage(channel="telegram", external_id=ExternalId(parsed.external_id),
                                 sender=parsed.chat_id, text=text, received_at=parsed.received_at,
                                 sender_name=parsed.sender_name, attachments=attachments, payload=parsed.payload)
        await self._inbox.accept_inbound(inbound)
        logger.info("telegram.update.accepted update_id=%s files=%d", update.update_id, len(attachments))
        if parsed.callback_query_id is not None:
            await self._after_button(parsed)

    async def _fetch(self, files: tuple[FileRef, ...]) -> tuple[tuple[Attachment, ...], bool]:
        attachments: list[Attachment] = []
        refused = False
        for ref in files:
            if ref.size is not None and ref.size > self._settings.max_attachment_bytes:
                refused = True
                continue
            try:
                data = await self._client.download(ref.file_id, self._settings.max_attachment_bytes)
            except FileTooLarge:
                refused = True
                continue
            except TelegramError as err:
                if is_transient(err):
                    raise ServiceUnavailable("telegram file download failed; deliver again") from err
                logger.warning("telegram.file.refused error=%s", describe(err))
                refused = True
                continue
            attachments.append(Attachment(filename=ref.filename, content_type=ref.content_type, data=data))
        return tuple(attachments), refused

    async def _after_button(self, parsed: ParsedUpdate) -> None:
        """Best effort: the choice is stored already; a lost answer only leaves a spinner."""
        assert parsed.callback_query_id is not None
        try:
            await self._client.answer_callback(parsed.callback_query_id)
            if parsed.keyboard_message_id is not None:
                await self._client.remove_keyboard(int(parsed.chat_id), parsed.keyboard_message_id)
        except TelegramError as err:
            logger.info("telegram.callback.answer_failed error=%s", describe(err))

    # -- receiving: loops for hub.supervisor ------------------------------------------------------
    def loops(self) -> tuple[Loop, ...]:
        """Webhook: register it (retried until Telegram takes it, then done). Polling: getUpdates in
        one hub process at a time (Telegram allows one poller per bot)."""
        if self.mode == "webhook":
            return (Loop(name="channels:telegram:webhook", work=self._register, backoff=BACKOFF,
                         quiet=(TelegramError,)),)
        return (Loop(name="channels:telegram:polling", work=self._poll, lease="telegram:polling", backoff=BACKOFF,
                     quiet=(TelegramError, ServiceUnavailable)),)

    async def _register(self, health: Health) -> None:
        assert self.webhook_url is not None and self._settings.webhook_secret is not None
        await self._client.set_webhook(self.webhook_url, self._settings.webhook_secret.get_secret_value())
        logger.info("telegram.webhook.set url=%s", self.webhook_url)

    async def _poll(self, health: Health) -> None:
        """Until cancelled or a failure (then the supervisor starts it again; the offset is kept)."""
        await self._client.delete_webhook()  # getUpdates answers 409 while a webhook is set
        logger.info("telegram.polling.started")
        while True:
            updates = await self._client.get_updates(self._offset)
            health.up()
            for update in updates:
                await self._receive_polled(update)
                self._offset = update.update_id + 1

    async def _receive_polled(self, update: Update) -> None:
        """Failures keep the offset, so the update comes again; one that keeps failing is skipped
        (logged once) so it cannot block the chat forever."""
        try:
            await self.receive(update)
        except Exception as err:
            self._failures = self._failures + 1 if self._failing == update.update_id else 1
            self._failing = update.update_id
            if self._failures < MAX_UPDATE_ATTEMPTS:
                raise ServiceUnavailable("telegram update not stored yet") from err
            logger.exception("telegram.update.skipped update_id=%s", update.update_id)
