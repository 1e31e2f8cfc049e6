"""The SMS channel's sending half: staff messages to Kannel's ``/cgi-bin/sendsms``.

Kannel 1.4.5 answers 202 (``0: Accepted for delivery``, or ``3: Queued for later delivery`` while
the SMSC is away: its store file keeps the message) and reports delivery per part to the
``dlr-url`` we pass, which carries the hub's message id and the webhook secret.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from types import TracebackType

import aiohttp

from channels.sms import segments
from hub.domain.ids import ChannelName, DeliveryStatus
from hub.domain.outbound import Outbound, SendResult, numbered_text
from hub.errors import ChannelSendError

logger = logging.getLogger(__name__)

# What Kannel may get as ``to``: no separators (a space would make Kannel send to two numbers).
ADDRESS = re.compile(r"\+?[0-9A-Za-z]{1,32}")
DLR_ALL = 31  # delivered | failed | buffered | SMSC ack | SMSC reject


class KannelSender:
    """``ChannelSender`` for SMS. Owns an aiohttp session between ``__aenter__`` and ``__aexit__``.

    Not idempotent towards the operator (Kannel has no client-side dedupe): after a crash between
    Kannel's 202 and the outbox's write, the customer may get the SMS twice. Cancellation-safe: a
    cancelled send leaves the session usable.
    """

    channel: ChannelName = "sms"

    def __init__(self, *, sendsms_url: str, username: str, password: str, sender: str, dlr_url: str,
                 secret: str, max_segments: int = 10, timeout_s: float = 10.0) -> None:
        self._url = sendsms_url.rstrip("/") + "/cgi-bin/sendsms"
        self._auth = {"username": username, "password": password}
        self._sender = sender
        self._dlr_url = dlr_url
        self._secret = secret
        self._max_segments = max_segments
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> KannelSender:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, outbound: Outbound) -> SendResult:
        """Submit the message (as several SMS when it exceeds ``max_segments``). The message stays
        ``queued`` until Kannel's first DLR (SMSC ack) moves it to ``sent``.

        Raises:
            ChannelSendError: retryable when Kannel is unreachable, slow or answers 5xx (or 401/403:
                a configuration the operator can fix); permanent for a bad number (Kannel's 400).
        """
        if not ADDRESS.fullmatch(outbound.address):
            raise ChannelSendError("sms address is not a phone number", retryable=False)
        text = numbered_text(outbound.text, outbound.buttons)
        chunks = segments.split(text, self._max_segments) or [text]
        sender = outbound.thread.get("to") or self._sender
        for chunk in chunks:
            await self._submit(self.params(outbound, chunk, sender))
        return SendResult(provider_ids=(str(outbound.message_id),), status=DeliveryStatus.QUEUED)

    def params(self, outbound: Outbound, text: str, sender: str) -> dict[str, str]:
        """The sendsms query for one SMS; UCS-2 (``coding=2``) for anything outside GSM-7, or
        Kannel answers 202 and the phone shows ``????``."""
        dlr = f"{self._dlr_url}?" + urllib.parse.urlencode({"secret": self._secret, "ref": outbound.message_id})
        params = {**self._auth, "from": sender, "to": outbound.address, "text": text, "charset": "UTF-8",
                  "dlr-mask": str(DLR_ALL), "dlr-url": dlr + "&status=%d"}
        if segments.encoding_of(text) is segments.Encoding.UCS2:
            params["coding"] = "2"
        return params

    async def _submit(self, params: dict[str, str]) -> None:
        if self._session is None:
            raise RuntimeError("KannelSender used outside 'async with'")
        try:
            async with self._session.get(self._url, params=params) as response:
                body = (await response.text(errors="replace"))[:200]
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as err:
            raise ChannelSendError(f"kannel unreachable: {type(err).__name__}", retryable=True) from err
        if status in (200, 202):
            return
        # Kannel's answers carry no PII ("Number(s) has/have been denied ...", "Authorization failed").
        logger.warning("sms.sendsms.rejected status=%d answer=%s", status, body.strip()[:80])
        if status in (401, 403) or status >= 500:
            raise ChannelSendError(f"kannel answered {status}", retryable=True)
        raise ChannelSendError(f"kannel rejected the message ({status})", retryable=False)
