"""Contacts, pure: identity normalisation, merge decisions, timeline cursors (no I/O).

Who may see or change a contact is ``hub.domain.visibility``'s rule.

An identity is ``"<channel>:<address>"`` (``sms:+8613800138000``, ``email:ann@example.org``,
``telegram:123456``, ``webchat:v_…``). The same address must always give the same identity,
whichever adapter or agent typed it, so every path goes through :func:`normalise`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.domain.ids import CHANNELS, ChannelName, ContactId, ConversationId
from hub.errors import HubError, InvalidInput

PHONE_CHANNELS: frozenset[str] = frozenset({"sms", "voice"})
PHONE_IDENTITY_CHANNEL: ChannelName = "sms"  # the key under which every phone number is stored
# Channels an agent may link by hand: a web visitor id is issued by the widget, never typed.
LINKABLE: frozenset[str] = frozenset({"sms", "email", "telegram", "voice"})
_PHONE_PUNCTUATION = re.compile(r"[\s\-.()/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164: at most 15 digits, no leading zero country code
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s\"<>(),;:]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
_TELEGRAM = re.compile(r"^-?\d{1,20}$")
_VISITOR = re.compile(r"^v_[A-Za-z0-9_-]{8,64}$")
MAX_EMAIL = 254
MIN_BARE_INTERNATIONAL = 10
MAX_NAME = 120
TOMBSTONE_PREFIX = "merged:"  # the placeholder identity a tombstone keeps (see MongoContactStore)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """One way to reach a customer. ``key`` is what contacts store and look up."""

    channel: ChannelName
    address: str

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.address}"

    def __repr__(self) -> str:  # no PII in logs or tracebacks
        return f"Identity({self.channel}:…)"


def normalise_phone(raw: str) -> str:
    """``+86 138-0013-8000`` and ``0086 13800138000`` → ``+8613800138000``; InvalidInput otherwise.

    Only international numbers: a national number cannot be told apart from another country's."""
    compact = _PHONE_PUNCTUATION.sub("", raw.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not _E164.match(compact):
        raise InvalidInput("a phone number must be international: + country code and number, up to 15 digits")
    return compact


def normalise_email(raw: str) -> str:
    """Trimmed and lower-cased (the local part too: mail servers treat it case-insensitively in practice)."""
    address = raw.strip().lower()
    if len(address) > MAX_EMAIL or not _EMAIL.match(address):
        raise InvalidInput("not an e-mail address")
    return address


def normalise(channel: str, address: str) -> Identity:
    """The canonical identity of ``address`` on ``channel``. Raises InvalidInput, without the address."""
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel[:20]!r}")
    if channel in PHONE_CHANNELS:
        # One phone number is one identity, whether it texted or called: stored under ``sms:``
        # (the first phone channel; existing contacts keep their keys), so a caller who sent an
        # SMS from that number is the same contact.
        return Identity(channel=PHONE_IDENTITY_CHANNEL, address=normalise_phone(address))
    if channel == "email":
        value = normalise_email(address)
    elif channel == "telegram":
        value = address.strip()
        if not _TELEGRAM.match(value):
            raise InvalidInput("a Telegram id is a number")
    else:
        value = address.strip()
        if not _VISITOR.match(value):
            raise InvalidInput("not a web-chat visitor id")
    return Identity(channel=channel, address=value)  # narrowed by the CHANNELS check


def inbound_key(channel: ChannelName, address: str) -> str:
    """The identity key for an inbound sender: normalised when valid, else as the channel gave it
    (a message is never refused because its sender looks odd). SMSCs often hand over
    international numbers without the ``+`` (``8613800138000``): ten digits or more count as one."""
    candidate = address.strip()
    if channel in PHONE_CHANNELS and candidate.isdigit() and len(candidate) >= MIN_BARE_INTERNATIONAL:
        candidate = "+" + candidate
    try:
        return normalise(channel, candidate).key
    except InvalidInput:
        return f"{channel}:{address.strip()}"


def parse_key(key: str) -> Identity:
    """``"sms:+86…"`` → Identity (as stored; not re-validated)."""
    channel, _, address = key.partition(":")
    return Identity(channel=channel, address=address)  # type: ignore[arg-type]


def group_by_channel(keys: list[str]) -> dict[str, list[str]]:
    """Identity keys grouped by channel, in a stable order; tombstone placeholders left out."""
    grouped: dict[str, list[str]] = {}
    for key in sorted(keys):
        if key.startswith(TOMBSTONE_PREFIX):
            continue
        identity = parse_key(key)
        grouped.setdefault(identity.channel, []).append(identity.address)
    return grouped


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"a name has 1 to {MAX_NAME} characters")
    return name


# -- merging ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class ContactFacts:
    """What a merge decision needs to know of one contact, read just before deciding."""

    id: ContactId
    merged_into: ContactId | None
    open_conversation_id: ConversationId | None  # only when that conversation is really open


class MergeAction(enum.Enum):
    MERGE = "merge"  # tombstone ``other`` into ``survivor`` now
    RESUME = "resume"  # already merged: finish the idempotent steps, no new audit entry


@dataclass(frozen=True, slots=True, kw_only=True)
class MergePlan:
    action: MergeAction
    # The survivor's open conversation after the merge; None: leave it as it is.
    hand_over_open: ConversationId | None


class MergeRefused(HubError):
    """The two contacts cannot be merged as they are; ``status`` is the HTTP answer (400/409)."""

    code = "merge_refused"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class IdentityTaken(HubError):
    """The identity belongs to another contact: merge the two instead (HTTP 409)."""

    code = "identity_taken"

    def __init__(self, owner: str) -> None:
        super().__init__(f"this identity belongs to contact {owner}: merge the two contacts instead")
        self.owner = owner


def plan_merge(survivor: ContactFacts, other: ContactFacts) -> MergePlan:
    """Decide how ``other`` merges into ``survivor``.

    A contact has at most one open conversation (the widget, the SMS path and the bot all
    assume it), so when both have one the merge is refused until an agent resolves one of them.
    When only ``other`` has one, it becomes the survivor's open conversation.
    """
    if survivor.id == other.id:
        raise MergeRefused("a contact cannot be merged with itself", status=400)
    if survivor.merged_into is not None:
        raise MergeRefused(f"contact {survivor.id} was merged into {survivor.merged_into}", status=409)
    if other.merged_into == survivor.id:
        return MergePlan(action=MergeAction.RESUME, hand_over_open=other.open_conversation_id
                         if survivor.open_conversation_id is None else None)
    if other.merged_into is not None:
        raise MergeRefused(f"contact {other.id} was already merged into {other.merged_into}", status=409)
    if survivor.open_conversation_id is not None and other.open_conversation_id is not None:
        raise MergeRefused("both contacts have an open conversation: resolve one of them first, then merge",
                           status=409)
    return MergePlan(action=MergeAction.MERGE,
                     hand_over_open=other.open_conversation_id if survivor.open_conversation_id is None else None)


# -- timeline paging --------------------------------------------------------------------------

def encode_cursor(sent_at: datetime, message_id: str) -> str:
    """An opaque "older than this message" cursor: ``<epoch microseconds>.<message id>``."""
    micros = (sent_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{message_id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    micros, dot, message_id = cursor.partition(".")
    if not dot or not micros.isdigit() or not message_id or len(cursor) > 120:
        raise InvalidInput("bad timeline cursor")
    return EPOCH + timedelta(microseconds=int(micros)), message_id


CONTACT_LABELS = {"sms": "SMS", "email": "E-mail", "telegram": "Telegram", "voice": "Caller"}


def default_contact_name(channel: ChannelName, address: str) -> str:
    """A short, recognisable name for a new contact ("SMS customer 8000"); agents see the full
    address among the contact's identities."""
    tail = address[-4:] if channel in PHONE_CHANNELS else address.split("@", 1)[0][:12]
    return f"{CONTACT_LABELS.get(channel, channel)} customer {tail}".strip()
