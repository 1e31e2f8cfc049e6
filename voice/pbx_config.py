"""What one Asterisk instance runs with, as values and as configuration text: pure, no I/O.

Every instance lives in its own directory tree inside the shared chroot (``/srv/hub/<name>``: its
configuration, CLI socket, spool, astdb, logs and recordings), so several run from one chroot at
once; modules, sounds and music on hold are the chroot's, shared. ``voice.pbx`` writes the files
that :func:`render` returns and runs Asterisk on them (see docs/decisions/0024).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from voice.dialplan import dialplan

INSTANCES_DIR = PurePosixPath("/srv/hub")  # inside the chroot
AGENTS_CONTEXT = "hub-agents"
CALLERS_CONTEXT = "hub-callers"
TRANSPORT = "hub-transport"
AGENT_PHONES_FILE = "pjsip_agents.conf"  # in the instance's etc directory, beside pjsip.conf

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,79}")
_SECRET = re.compile(r"[A-Za-z0-9_.~+/=@%:-]{8,128}")  # nothing a config parser reads as syntax (; [ ] ,)
_HOST = re.compile(r"[A-Za-z0-9.:-]{1,253}")
_SIP_URI = re.compile(r"sips?:[A-Za-z0-9_.+-]+@[A-Za-z0-9.:\[\]-]+")
_MOH_CLASS = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _check(pattern: re.Pattern[str], value: str, what: str) -> None:
    if not pattern.fullmatch(value):
        raise ValueError(f"invalid {what}: {value!r}" if "secret" not in what and "password" not in what
                         else f"invalid {what} (letters, digits and _.~+/=@%:- only, 8 to 128 characters)")


def _check_port(port: int, what: str) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"invalid {what} port: {port}")


@dataclass(frozen=True, slots=True)
class PbxPorts:
    """Loopback ports of one instance: SIP (UDP), AMI (TCP) and the RTP range (UDP, both inclusive)."""

    sip: int
    ami: int
    rtp_start: int
    rtp_end: int

    def __post_init__(self) -> None:
        for port, what in ((self.sip, "sip"), (self.ami, "ami"), (self.rtp_start, "rtp_start"),
                           (self.rtp_end, "rtp_end")):
            _check_port(port, what)
        if self.rtp_end - self.rtp_start < 3:
            raise ValueError("the RTP range needs at least 4 ports (RTP and RTCP pairs)")
        if self.rtp_start <= self.sip <= self.rtp_end:
            raise ValueError("the SIP port lies inside the RTP range")


@dataclass(frozen=True, slots=True)
class AgentPhone:
    """An agent's phone as a PJSIP endpoint named ``endpoint`` (context ``hub-agents``).

    ``contact`` is a static SIP URI (a desk phone, a test's sipp UAS); without one the phone
    registers (one contact at a time), authenticated by ``password`` when that is set.
    """

    endpoint: str
    password: str | None = field(default=None, repr=False)
    contact: str | None = None

    def __post_init__(self) -> None:
        _check(_ENDPOINT, self.endpoint, "endpoint name")
        if self.password is not None:
            _check(_SECRET, self.password, "password")
        if self.contact is not None:
            _check(_SIP_URI, self.contact, "contact URI")
        elif self.password is None:
            raise ValueError(f"agent phone {self.endpoint}: a static contact or a password to register with")


@dataclass(frozen=True, slots=True)
class PbxPlan:
    """Everything one instance is configured from; ``render`` turns it into files.

    ``callers`` are caller endpoints without authentication, recognised by the From user and sent
    to ``hub-callers`` (test callers, a trunk's identity). ``recordings_dir`` is the path inside the
    chroot (default ``/srv/hub/<name>/recordings``).
    """

    name: str
    ports: PbxPorts
    ami_user: str
    ami_secret: str = field(repr=False)
    agi_host: str
    agi_port: int
    recordings_dir: PurePosixPath | None = None
    moh_class: str = "default"
    agents: tuple[AgentPhone, ...] = ()
    callers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check(_NAME, self.name, "instance name")
        _check(_ENDPOINT, self.ami_user, "AMI user")
        _check(_SECRET, self.ami_secret, "AMI secret")
        _check(_HOST, self.agi_host, "AGI host")
        _check_port(self.agi_port, "agi")
        _check(_MOH_CLASS, self.moh_class, "music-on-hold class")
        for caller in self.callers:
            _check(_ENDPOINT, caller, "caller endpoint")
        names = [a.endpoint for a in self.agents] + list(self.callers)
        clashes = {n for n in names if names.count(n) > 1 or n == TRANSPORT or n.endswith("-auth")}
        if clashes:
            raise ValueError(f"endpoint names used twice or reserved: {sorted(clashes)}")
        if self.recordings_dir is not None and not self.recordings_dir.is_absolute():
            raise ValueError("recordings_dir must be an absolute path inside the chroot")

    def directory(self) -> PurePosixPath:
        """The instance's own tree inside the chroot."""
        return instance_dir(self.name)

    def recordings(self) -> PurePosixPath:
        """Where MixMonitor writes, as Asterisk sees it (inside the chroot)."""
        return self.recordings_dir or self.directory() / "recordings"


def instance_dir(name: str) -> PurePosixPath:
    return INSTANCES_DIR / name


def config_path(name: str) -> PurePosixPath:
    """The ``asterisk.conf`` to pass as ``-C`` (inside the chroot): it names every other directory."""
    return instance_dir(name) / "etc" / "asterisk.conf"


def instance_dirs(name: str) -> dict[str, PurePosixPath]:
    """asterisk.conf's per-instance directories (modules, sounds, music on hold stay shared).

    Asterisk appends ``keys`` to astkeydir itself."""
    base = instance_dir(name)
    lib = base / "lib"
    return {"astetcdir": base / "etc", "astvarlibdir": lib, "astdbdir": lib, "astkeydir": lib,
            "astspooldir": base / "spool", "astrundir": base / "run", "astlogdir": base / "log",
            "astcachedir": base / "cache"}


def render(plan: PbxPlan) -> dict[str, str]:
    """File name (in the instance's etc directory) -> content. Deterministic: equal plans, equal text."""
    return {
        "asterisk.conf": _asterisk_conf(plan),
        "modules.conf": MODULES_CONF,
        "logger.conf": LOGGER_CONF,
        "manager.conf": _manager_conf(plan),
        "rtp.conf": f"[general]\nrtpstart = {plan.ports.rtp_start}\nrtpend = {plan.ports.rtp_end}\nicesupport = no\n",
        "pjsip.conf": _pjsip_conf(plan),
        "musiconhold.conf": _moh_conf(plan),
        "extensions.conf": dialplan(plan),
        "http.conf": "[general]\nenabled = no\n",
        "queues.conf": "[general]\npersistentmembers = no\n",
    }


def _asterisk_conf(plan: PbxPlan) -> str:
    lines = [f"; instance {plan.name}, written by voice.pbx", "[directories]"]
    lines += [f"{key} => {path}" for key, path in instance_dirs(plan.name).items()]
    # Shared with every instance; astmoddir keeps the package's compiled-in (multiarch) default.
    lines += ["astdatadir => /usr/share/asterisk", "astagidir => /usr/share/asterisk/agi-bin",
              "astsbindir => /usr/sbin", "", "[options]", "verbose = 3", "hideconnect = yes",
              "documentation_language = en_US"]
    return "\n".join(lines) + "\n"


def _manager_conf(plan: PbxPlan) -> str:
    return (
        "[general]\nenabled = yes\n"
        f"port = {plan.ports.ami}\nbindaddr = 127.0.0.1\ndisplayconnects = no\n\n"
        f"[{plan.ami_user}]\nsecret = {plan.ami_secret}\n"
        "deny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.1/255.255.255.255\n"
        "read = all\nwrite = all\nwritetimeout = 5000\n"
    )


_ENDPOINT_MEDIA = (
    "disallow = all\nallow = ulaw,alaw\ndtmf_mode = rfc4733\ndirect_media = no\nrtp_symmetric = yes\n"
    "media_address = 127.0.0.1\nbind_rtp_to_media_address = yes\n"
)


def _pjsip_conf(plan: PbxPlan) -> str:
    parts = [f"[{TRANSPORT}]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:{plan.ports.sip}\n"]
    for agent in plan.agents:
        parts.append(_agent_sections(agent))
    for caller in plan.callers:
        parts.append(f"[{caller}]\ntype = endpoint\ncontext = {CALLERS_CONTEXT}\naors = {caller}\n{_ENDPOINT_MEDIA}\n"
                     f"[{caller}]\ntype = aor\nmax_contacts = 1\n")
    # The agents' phones from the hub's agent directory: written by the hub's voice line
    # (voice/phones.py), re-read on "pjsip reload"; missing until the hub first writes it.
    parts.append(f"#tryinclude {AGENT_PHONES_FILE}\n")
    return "\n".join(parts)


def agent_phones_conf(agents: tuple[AgentPhone, ...]) -> str:
    """The agents' endpoints as ``pjsip.conf`` sections (the file ``AGENT_PHONES_FILE``)."""
    return "; the hub's agents' phones, written by the hub (voice/phones.py); do not edit\n" + "\n".join(
        _agent_sections(agent) for agent in agents)


def _agent_sections(agent: AgentPhone) -> str:
    name = agent.endpoint
    endpoint = f"[{name}]\ntype = endpoint\ncontext = {AGENTS_CONTEXT}\naors = {name}\n{_ENDPOINT_MEDIA}"
    auth = ""
    if agent.password is not None:
        endpoint += f"auth = {name}-auth\n"
        auth = f"\n[{name}-auth]\ntype = auth\nauth_type = userpass\nusername = {name}\npassword = {agent.password}\n"
    if agent.contact is not None:
        aor = f"\n[{name}]\ntype = aor\ncontact = {agent.contact}\n"
    else:
        aor = f"\n[{name}]\ntype = aor\nmax_contacts = 1\nremove_existing = yes\n"
    return endpoint + auth + aor


def _moh_conf(plan: PbxPlan) -> str:
    classes = dict.fromkeys(["default", plan.moh_class])
    return "[general]\n" + "".join(f"\n[{c}]\nmode = files\ndirectory = moh\n" for c in classes)


LOGGER_CONF = """\
[general]
dateformat = %F %T.%3q

[logfiles]
messages.log => notice,warning,error,verbose
"""

# No listeners, hardware or external services beyond what the hub uses (PJSIP, AMI, AGI, RTP).
_NOLOAD = (
    "chan_iax2", "chan_skinny", "chan_mgcp", "chan_unistim", "chan_ooh323", "chan_dahdi",
    "chan_mobile", "chan_alsa", "chan_console", "chan_oss", "chan_motif", "chan_websocket", "pbx_dundi",
    "pbx_lua", "pbx_ael", "res_hep", "res_hep_pjsip", "res_hep_rtcp", "res_xmpp", "res_snmp", "res_statsd",
    "res_prometheus", "res_resolver_unbound", "res_stun_monitor", "res_phoneprov",
    "res_pjsip_phoneprov_provider", "res_calendar", "res_calendar_icalendar", "res_calendar_ews",
    "res_calendar_caldav", "res_calendar_exchange", "res_config_ldap", "res_config_pgsql", "cdr_pgsql",
    "cel_pgsql", "cdr_tds", "cel_tds", "cdr_radius", "cel_radius", "cel_sqlite3_custom", "cdr_sqlite3_custom",
    "app_voicemail_odbc", "app_voicemail_imap", "app_festival",
    "cdr_csv")  # the hub keeps its own call records: cdr_csv only logged an error per call (no cdr-csv dir)

MODULES_CONF = (
    "[modules]\nautoload = yes\n"
    "; app_voicemail_odbc/_imap clash with app_voicemail; res_odbc declines by itself (never noload it)\n"
    + "".join(f"noload => {module}.so\n" for module in _NOLOAD)
)
