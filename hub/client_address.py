"""Which address a request came from (pure): the peer, or behind a trusted proxy the address that
proxy saw, never one a client wrote into ``X-Forwarded-For`` itself."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "127.0.0.1"]`` as networks; raises ValueError naming a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address. ``forwarded_for``: every ``X-Forwarded-For`` header's entries in order.

    Only when the peer is a trusted proxy is the header read, right to left: each trusted proxy
    appended the address it saw, so the first address from the right that is not a trusted proxy
    is the client. Entries left of it were written by the client and are ignored."""
    current = peer or "unknown"
    if not _trusted(current, trusted):
        return current
    entries = [part.strip() for header in forwarded_for for part in header.split(",") if part.strip()]
    for entry in reversed(entries):
        try:
            ipaddress.ip_address(entry)
        except ValueError:
            return current  # a garbled hop: the last address a trusted proxy vouched for
        if not _trusted(entry, trusted):
            return entry
        current = entry
    return current
