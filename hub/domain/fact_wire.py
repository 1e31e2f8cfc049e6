"""The facts' one wire format: JSON with a version field ``v``; ``KINDS`` names every fact a
process may receive. Pure; re-exported by ``hub.domain.events``."""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from hub.domain.facts import (
    AgentSessionsRevoked,
    CallAnswered,
    CallCommand,
    CallEnded,
    CallHeld,
    CallRinging,
    ContactChanged,
    ConversationChanged,
    Fact,
    MessagesDelivered,
    MessageStored,
    OfferMade,
    OfferWithdrawn,
    OutageNoticeStarted,
    PresenceChanged,
    RoutingKicked,
    StatusChanged,
    SurveyAsked,
    SurveyCallDue,
    TypingChanged,
    VoiceTurnTimed,
    WorkOrderChanged,
)

logger = logging.getLogger(__name__)

def _registry(classes: Iterable[type[Fact]]) -> Mapping[str, type[Fact]]:
    kinds: dict[str, type[Fact]] = {}
    for cls in classes:
        if not cls.KIND or cls.KIND in kinds:
            raise ValueError(f"fact kind {cls.KIND!r} of {cls.__name__} is empty or taken")
        kinds[cls.KIND] = cls
    return kinds


KINDS: Mapping[str, type[Fact]] = _registry([
    MessageStored, StatusChanged, TypingChanged, PresenceChanged, ConversationChanged, OfferMade, OfferWithdrawn,
    RoutingKicked, AgentSessionsRevoked, CallRinging, CallAnswered, CallHeld, CallEnded, CallCommand,
    VoiceTurnTimed,
    WorkOrderChanged, SurveyCallDue, ContactChanged, SurveyAsked, MessagesDelivered, OutageNoticeStarted,
])

# -- the wire -----------------------------------------------------------------------------------------

WIRE_VERSION = 1  # raise it when a kind changes incompatibly; older processes then skip that kind


def encode(fact: Fact, origin: str | None = None) -> str:
    """One fact as compact JSON: ``{"o": origin, "v": 1, "kind": ..., <fields>}`` (``o``, the
    publishing bus, first and only when given: a process skips its own by that prefix, ADR 0074;
    decoders ignore it)."""
    data: dict[str, Any] = {"o": origin} if origin is not None else {}
    data.update(v=WIRE_VERSION, kind=fact.KIND)
    for f in dataclasses.fields(fact):
        data[f.name] = _wire_value(getattr(fact, f.name))
    return json.dumps(data, separators=(",", ":"))


def _wire_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


Convert = Callable[[Any], Any]


class FactDecoder:
    """Wire JSON to typed facts. Never raises for what another process sent: a kind it does not
    know, a newer ``v`` or a malformed fact is logged once per kind and skipped (``None``)."""

    def __init__(self, kinds: Mapping[str, type[Fact]] = KINDS) -> None:
        self._kinds = dict(kinds)
        self._fields = {kind: _field_converters(cls) for kind, cls in self._kinds.items()}
        self._reported: set[str] = set()
        self.skipped = 0

    def decode(self, data: bytes | str) -> Fact | None:
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError):
            return self._skip("(not json)", "bus.fact.malformed")
        if not isinstance(raw, dict):
            return self._skip("(not an object)", "bus.fact.malformed")
        kind, version = raw.get("kind"), raw.get("v")
        if not isinstance(kind, str) or kind not in self._kinds:
            return self._skip(str(kind if kind is not None else f"(no kind; t={raw.get('t')})"), "bus.fact.unknown")
        if not isinstance(version, int) or version > WIRE_VERSION:
            return self._skip(f"{kind}@v{version}", "bus.fact.newer_version")
        try:
            values = {name: convert(raw[name]) for name, convert in self._fields[kind]}
            return self._kinds[kind](**values)
        except (KeyError, TypeError, ValueError):
            return self._skip(kind, "bus.fact.malformed")

    def _skip(self, kind: str, key: str) -> Fact | None:
        self.skipped += 1
        if f"{key}:{kind}" not in self._reported:
            self._reported.add(f"{key}:{kind}")
            logger.warning("%s kind=%s (skipped; logged once per kind)", key, kind)
        return None


def _field_converters(cls: type[Fact]) -> list[tuple[str, Convert]]:
    hints = typing.get_type_hints(cls)
    return [(f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls)]


def _converter(hint: Any) -> Convert:
    """How a JSON value becomes a field of type ``hint``; raises TypeError/ValueError when it cannot."""
    args = typing.get_args(hint)
    if (typing.get_origin(hint) in (typing.Union, types.UnionType)) and type(None) in args:
        inner = _converter(next(a for a in args if a is not type(None)))
        return lambda value: None if value is None else inner(value)
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:  # a NewType id
        return _converter(supertype)
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        return origin
    if origin is frozenset:
        return lambda value: frozenset(_expect(value, list))
    if origin is tuple and args == (str, Ellipsis):
        return lambda value: tuple(_expect(item, str) for item in _expect(value, list))
    if origin in (dict, Mapping):
        return lambda value: _expect(value, dict)
    if origin is datetime:
        return lambda value: datetime.fromisoformat(_expect(value, str))
    if origin is bool:
        return lambda value: _expect(value, bool)
    if origin is float:
        return lambda value: float(_expect(value, (int, float)))
    if origin in (int, str):
        return lambda value: _expect(value, origin)
    raise TypeError(f"the fact codec cannot carry {hint!r}")


def _expect(value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise TypeError(f"expected {kind}")
    return value
