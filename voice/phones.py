"""The agents' phones as PJSIP endpoints, from the hub's agent directory: pure, no I/O.

Each agent who takes calls (role agent or supervisor, not disabled) gets the endpoint
``agent-<username>`` (the dial string is ``HUB_VOICE__AGENT_ENDPOINT``), registering with a password
derived from the hub's secret key: nothing to store, the same in every hub process, and shown to
the agent by ``hub voice phone <username>``. The voice line writes the result to Asterisk's
``pjsip_agents.conf`` and reloads PJSIP whenever the directory changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from hub.domain.ids import Role
from hub.domain.model import Agent
from voice.pbx_config import AgentPhone, agent_phones_conf

TAKES_CALLS = frozenset({Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR})
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,70}")


def endpoint_of(username: str) -> str:
    return f"agent-{username}"


def phone_password(secret: bytes, username: str) -> str:
    """24 URL-safe characters, HMAC-SHA256 of the username under the hub's secret key."""
    digest = hmac.new(secret, f"sip-phone:{username}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:24]


def agent_phones(agents: Iterable[Agent], secret: bytes) -> tuple[AgentPhone, ...]:
    """The phones of the agents who take calls, sorted (the same directory renders the same text).
    A username PJSIP cannot carry as an endpoint name is left out (it gets no phone)."""
    phones = [AgentPhone(endpoint_of(a.username), password=phone_password(secret, a.username))
              for a in agents if a.role in TAKES_CALLS and not a.disabled and _USERNAME.fullmatch(a.username)]
    return tuple(sorted(phones, key=lambda p: p.endpoint))


def phones_conf(agents: Iterable[Agent], secret: bytes) -> str:
    return agent_phones_conf(agent_phones(agents, secret))
