"""The client address behind trusted proxies (pure)."""

from __future__ import annotations

import pytest

from hub.client_address import client_address, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "127.0.0.1", "::1"])


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    ("198.51.100.7", [], "198.51.100.7"),
    ("198.51.100.7", ["203.0.113.1"], "198.51.100.7"),  # not a proxy of ours: its header is the client's
    ("127.0.0.1", [], "127.0.0.1"),
    ("127.0.0.1", ["203.0.113.1"], "203.0.113.1"),
    ("127.0.0.1", ["6.6.6.6, 203.0.113.1"], "203.0.113.1"),  # the left part was written by the client
    ("127.0.0.1", ["203.0.113.1, 10.1.2.3"], "203.0.113.1"),  # through two proxies of ours
    ("127.0.0.1", ["6.6.6.6", "203.0.113.1, 10.1.2.3"], "203.0.113.1"),  # several header lines
    ("127.0.0.1", ["10.9.9.9, 10.1.2.3"], "10.9.9.9"),  # only proxies: the farthest one
    ("127.0.0.1", ["203.0.113.1, garbage"], "127.0.0.1"),  # a garbled hop: the proxy we trust
    ("::1", ["2001:db8::5"], "2001:db8::5"),
    (None, [], "unknown"),
])
def test_client_address(peer: str | None, headers: list[str], expected: str) -> None:
    assert client_address(peer, headers, PROXIES) == expected


def test_bad_proxy_entries_are_named() -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        parse_networks(["10.0.0.0/8", "not-an-ip"])
