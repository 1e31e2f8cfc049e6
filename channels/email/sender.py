"""The sending half of the e-mail channel: one SMTP submission per staff message (aiosmtplib).

A connection per message keeps the adapter stateless: a cancelled send closes its own socket and
leaves nothing behind for the next one. Errors are mapped at this boundary: the server down or
answering 4xx is retryable, a 5xx (recipient refused, message rejected) is permanent.
"""

from __future__ import annotations

import logging

import aiosmtplib

from channels.email.composer import InvalidAddress, compose
from hub.clock import Clock
from hub.config import EmailSettings
from hub.domain.ids import ChannelName
from hub.domain.outbound import Outbound, SendResult
from hub.errors import ChannelSendError

logger = logging.getLogger(__name__)


class SmtpSender:
    """``hub.ports.ChannelSender`` for e-mail. Returns our Message-ID as the provider id."""

    channel: ChannelName = "email"

    def __init__(self, settings: EmailSettings, clock: Clock) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpSender needs email.smtp_host")
        self._settings = settings
        self._host = settings.smtp_host
        self._clock = clock
        self._domain = settings.message_id_domain or settings.from_address.rsplit("@", 1)[-1]

    async def send(self, outbound: Outbound) -> SendResult:
        settings = self._settings
        try:
            composed = compose(outbound, from_address=settings.from_address, from_name=settings.from_name,
                               domain=self._domain, now=self._clock.now())
        except InvalidAddress as err:
            raise ChannelSendError(str(err), retryable=False) from err
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        try:
            await aiosmtplib.send(
                composed.message, sender=composed.sender, recipients=[composed.recipient], hostname=self._host,
                port=settings.smtp_port, username=settings.smtp_username, password=password,
                use_tls=settings.smtp_tls, start_tls=settings.smtp_starttls, timeout=settings.timeout_s)
        except aiosmtplib.SMTPRecipientsRefused as err:
            codes = [refused.code for refused in err.recipients]
            raise _by_code(min(codes, default=550), "recipient refused") from err
        except aiosmtplib.SMTPAuthenticationError as err:  # operator action; the messages wait meanwhile
            logger.error("email.smtp.auth_failed code=%s", err.code)
            raise ChannelSendError("smtp authentication failed", retryable=True) from err
        except aiosmtplib.SMTPResponseException as err:  # sender or data refused, 4xx busy
            raise _by_code(err.code, "smtp server refused the message") from err
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:  # down, disconnected, timed out
            raise ChannelSendError(f"smtp server unreachable ({type(err).__name__})", retryable=True) from err
        logger.info("email.sent message=%s", outbound.message_id)
        return SendResult(provider_ids=(composed.message_id,))


def _by_code(code: int, what: str) -> ChannelSendError:
    """RFC 5321 section 4.2.1: 4yz is transient, 5yz permanent."""
    return ChannelSendError(f"{what} ({code})", retryable=not 500 <= code < 600)
