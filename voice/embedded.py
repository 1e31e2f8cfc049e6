"""The Asterisk that ``hub serve`` starts for itself when ``HUB_VOICE__EMBEDDED`` is set (development,
the README's run command): an instance of the chroot's Asterisk on loopback ports, its AMI secret
generated, the agents' phones written by the voice line from the agent directory. Stopped with the hub.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import SecretStr

from hub.config import VoiceSettings
from hub.embedded import free_port, free_udp_ports, udp_port_free
from voice.pbx import DEFAULT_ROOT, AsteriskInstance
from voice.pbx_config import AGENT_PHONES_FILE, PbxPlan, PbxPorts

logger = logging.getLogger(__name__)

NAME = "embedded"
PREFERRED_SIP, PREFERRED_RTP = 5060, (10000, 10199)  # a softphone's usual settings, when free
TEST_CALLER = "customer"  # a caller endpoint without a password (loopback only), to try a call


@contextlib.asynccontextmanager
async def embedded_pbx(voice: VoiceSettings, root: Path = DEFAULT_ROOT, name: str = NAME
                       ) -> AsyncIterator[VoiceSettings]:
    """Start the instance; yields ``voice`` completed with its AMI port and secret, the recordings
    directory and the phones file. Raises ``voice.pbx.PbxError`` (with the way out) when it cannot.
    The instance keeps its directory (``/srv/hub/<name>`` in the chroot): the recordings stay."""
    agi_port = voice.agi_port or free_port()
    sip = PREFERRED_SIP if udp_port_free(PREFERRED_SIP) else free_udp_ports(1)
    low, high = PREFERRED_RTP
    if not all(udp_port_free(p) for p in range(low, high + 1)):
        low = free_udp_ports(high - low + 1)
        high = low + (PREFERRED_RTP[1] - PREFERRED_RTP[0])
    plan = PbxPlan(name=name, ports=PbxPorts(sip, free_port(), low, high), ami_user=voice.ami_user,
                   ami_secret=secrets.token_urlsafe(24), agi_host=voice.agi_host, agi_port=agi_port,
                   callers=(TEST_CALLER,))
    instance = AsteriskInstance(root, plan)
    await instance.start()
    try:
        logger.info("voice.embedded.started sip=127.0.0.1:%d ami_port=%d", sip, plan.ports.ami)
        print(f"Phones (SIP):   127.0.0.1:{sip} (UDP); agents register as agent-<username>, "
              "password: hub voice phone <username>", flush=True)
        yield voice.model_copy(update={
            "ami_port": plan.ports.ami, "ami_secret": SecretStr(plan.ami_secret), "agi_port": agi_port,
            "recordings_dir": instance.recordings_dir_host, "recordings_dir_pbx": str(plan.recordings()),
            "phones_file": instance.directory / "etc" / AGENT_PHONES_FILE})
    finally:
        await instance.stop()
