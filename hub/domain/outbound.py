"""What the hub hands a channel adapter to send, what comes back, and the pure rules around it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hub.domain.ids import CHANNELS, ChannelName, ConversationId, DeliveryStatus, MessageId
from hub.domain.model import NO_DETAIL, Attachment

# Retry schedule of the outbox, in seconds after each failed attempt; then the message fails.
RETRY_DELAYS_S: tuple[float, ...] = (2, 5, 15, 30, 60, 120, 300, 600)
# A thread's references a reply carries: the newest ones, as many as an e-mail's References header
# keeps (channels/email/composer.py). Every outbox entry carries them: a long conversation's whole
# history there made each entry, and each write of it, grow with the conversation (ADR 0075).
THREAD_REFERENCES = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbound:
    """One staff message (agent or bot) on its way to a customer's channel address.

    ``thread`` is what the channel needs to answer in kind, gathered from the conversation:
    ``reply_to`` (the provider id of the customer's last message on this channel), ``references``
    (provider ids of the thread so far, space separated, oldest first, the newest
    ``THREAD_REFERENCES``) and the last inbound
    message's ``meta`` (an e-mail's subject)."""

    message_id: MessageId
    conversation_id: ConversationId
    channel: ChannelName
    address: str
    text: str
    author_name: str
    buttons: tuple[Mapping[str, str], ...] = ()
    thread: Mapping[str, str] = field(default_factory=lambda: NO_DETAIL)
    attempt: int = 1
    files: tuple[Attachment, ...] = ()  # an agent's files, for a channel that attaches them (e-mail)

    def __repr__(self) -> str:
        return f"Outbound({self.message_id} {self.channel} attempt={self.attempt})"


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """What the channel said: its ids for the message (delivery reports refer to them) and the status."""

    provider_ids: tuple[str, ...]
    status: DeliveryStatus = DeliveryStatus.SENT


def numbered_text(text: str, buttons: Sequence[Mapping[str, str]]) -> str:
    """Quick replies for channels without buttons (SMS, e-mail): "1. Pay my bill" lines."""
    if not buttons:
        return text
    lines = [f"{index}. {button['title']}" for index, button in enumerate(buttons, start=1)]
    return "\n".join([text, "", *lines])


def chosen_button(text: str, buttons: Sequence[Mapping[str, str]]) -> str | None:
    """The payload of the button a customer chose by answering its number (or its exact title).
    Full-width digits count too: Chinese input methods type them."""
    answer = text.strip().rstrip(".。").strip()
    if answer.isdecimal() and 1 <= int(answer) <= len(buttons):
        return buttons[int(answer) - 1]["payload"]
    for button in buttons:
        if answer.casefold() == button["title"].strip().casefold():
            return button["payload"]
    return None


def next_attempt_delay(attempt: int) -> float | None:
    """Seconds to wait after failed attempt number ``attempt`` (1-based); None: give up."""
    if attempt < 1 or attempt > len(RETRY_DELAYS_S):
        return None
    return RETRY_DELAYS_S[attempt - 1]


def thread_context(thread: Sequence[Mapping[str, object]]) -> dict[str, str]:
    """From a conversation's messages on one channel (oldest first, as stored): what a reply
    needs to join the thread. The last inbound message's ``meta`` (subject, …) comes along."""
    references: list[str] = []
    context: dict[str, str] = {}
    for doc in thread:
        if doc.get("inbound"):
            external_id = str(doc.get("external_id") or "")
            if external_id:
                references.append(external_id)
                context["reply_to"] = external_id
            meta = doc.get("meta")
            if isinstance(meta, Mapping):
                context.update({str(k): str(v) for k, v in meta.items()})
        else:
            provider_ids = doc.get("provider_ids")
            if isinstance(provider_ids, list):
                references.extend(str(p) for p in provider_ids)
    if references:
        context["references"] = " ".join(list(dict.fromkeys(references))[-THREAD_REFERENCES:])
    return context


@dataclass(frozen=True, slots=True)
class Route:
    """Where a staff message goes: the channel and address the customer last wrote from, and the
    thread context a reply on that channel needs (``thread_context``), carried in the outbox entry
    so that sending reads nothing."""

    channel: ChannelName
    address: str | None
    thread: Mapping[str, str] = field(default_factory=lambda: NO_DETAIL)


def reply_route(thread: Sequence[Mapping[str, object]], default: ChannelName) -> Route:
    """From a conversation's messages (oldest first; inbound ones and sent ones with provider ids):
    back where the customer last wrote, with that channel's thread; ``default`` without an address."""
    last = next((doc for doc in reversed(thread) if doc.get("inbound")), None)
    address = last.get("address") if last is not None else None
    channel = next((c for c in CHANNELS if last is not None and c == last.get("channel")), None)
    if channel is None or not isinstance(address, str) or not address:
        return Route(default, None, _thread_on(thread, default))
    return Route(channel, address, _thread_on(thread, channel))


def _thread_on(thread: Sequence[Mapping[str, object]], channel: ChannelName) -> dict[str, str]:
    return thread_context([doc for doc in thread if doc.get("channel") == channel])
