"""hub.registry: one entry per name, and the live channels as the core asks for them."""

from __future__ import annotations

import pytest

from hub.domain.ids import ChannelName
from hub.registry import Buttons, Capabilities, ChannelEntry, ChannelRegistry, DuplicateChannel


def entry(name: ChannelName, *, live: bool) -> ChannelEntry:
    return ChannelEntry(name=name,
                        capabilities=Capabilities(buttons=Buttons.NUMBERED, max_text_chars=None, receipts=False,
                                                  live=live))


def test_live_names_the_registered_channels_with_a_live_connection_even_those_registered_later() -> None:
    registry = ChannelRegistry()
    live = registry.live  # handed to the core before the channels exist
    assert "webchat" not in live
    registry.register(entry("webchat", live=True))
    registry.register(entry("sms", live=False))
    assert "webchat" in live
    assert "sms" not in live and "email" not in live and 3 not in live


def test_a_name_registers_once() -> None:
    registry = ChannelRegistry()
    registry.register(entry("sms", live=False))
    with pytest.raises(DuplicateChannel):
        registry.register(entry("sms", live=True))
