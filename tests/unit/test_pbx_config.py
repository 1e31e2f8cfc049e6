"""The PBX plan and its rendered configuration (voice/pbx_config.py, voice/dialplan.py): pure."""

from __future__ import annotations

import dataclasses
from pathlib import PurePosixPath

import pytest

from voice.pbx_config import AgentPhone, PbxPlan, PbxPorts, config_path, render


def plan(**changes: object) -> PbxPlan:
    base = PbxPlan(name="t1", ports=PbxPorts(sip=21000, ami=21001, rtp_start=22000, rtp_end=22099),
                   ami_user="hub", ami_secret="ami-secret-123", agi_host="127.0.0.1", agi_port=4573,
                   agents=(AgentPhone("desk-ann", contact="sip:desk-ann@127.0.0.1:5071"),
                           AgentPhone("soft-bob", password="bob-phone-pass")),
                   callers=("customer",))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_every_instance_has_its_own_directories_and_shares_the_modules() -> None:
    conf = render(plan())["asterisk.conf"]
    for key in ("astetcdir", "astrundir", "astspooldir", "astdbdir", "astvarlibdir", "astlogdir"):
        assert f"{key} => /srv/hub/t1/" in conf
    assert "astdatadir => /usr/share/asterisk" in conf and "astmoddir" not in conf
    assert config_path("t1") == PurePosixPath("/srv/hub/t1/etc/asterisk.conf")


def test_loopback_ports_and_the_ami_user() -> None:
    files = render(plan())
    assert "bind = 127.0.0.1:21000" in files["pjsip.conf"]
    assert "port = 21001\nbindaddr = 127.0.0.1" in files["manager.conf"]
    assert "[hub]\nsecret = ami-secret-123\ndeny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.1/255.255.255.255" in files[
        "manager.conf"]
    assert "rtpstart = 22000\nrtpend = 22099" in files["rtp.conf"]


def test_agent_phones_static_contact_or_registration_with_auth() -> None:
    pjsip = render(plan())["pjsip.conf"]
    assert "[desk-ann]\ntype = aor\ncontact = sip:desk-ann@127.0.0.1:5071\n" in pjsip
    assert "[soft-bob]\ntype = aor\nmax_contacts = 1\n" in pjsip
    assert "auth = soft-bob-auth\n" in pjsip and "password = bob-phone-pass\n" in pjsip
    assert "auth = desk-ann-auth" not in pjsip
    assert pjsip.count("context = hub-agents") == 2 and pjsip.count("context = hub-callers") == 1
    assert pjsip.count("bind_rtp_to_media_address = yes") == 3


def test_the_dialplan_is_filled_from_the_plan() -> None:
    extensions = render(plan())["extensions.conf"]
    assert "AGI(agi://127.0.0.1:4573/inbound)" in extensions
    assert "Set(REC=/srv/hub/t1/recordings/${HUB_REC})" in extensions
    assert "MixMonitor(${REC}.wav,br(${REC}-agent.wav)t(${REC}-caller.wav))" in extensions
    assert "MusicOnHold(default)" in extensions


def test_rendering_is_deterministic_and_secrets_stay_out_of_repr() -> None:
    assert render(plan()) == render(plan())
    assert "ami-secret-123" not in repr(plan()) and "bob-phone-pass" not in repr(plan())


@pytest.mark.parametrize("bad", [
    {"name": "../etc"}, {"ami_secret": "short"}, {"ami_secret": "semi;colon-secret"}, {"agi_host": "a b"},
    {"callers": ("customer", "customer")}, {"callers": ("hub-transport",)}, {"moh_class": "x;y"},
    {"recordings_dir": PurePosixPath("relative")},
])
def test_what_a_config_parser_would_misread_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        plan(**bad)


def test_ports_and_phones_are_checked() -> None:
    with pytest.raises(ValueError):
        PbxPorts(sip=22050, ami=21001, rtp_start=22000, rtp_end=22099)
    with pytest.raises(ValueError):
        AgentPhone("nobody")  # neither a contact nor a password: anyone could register as it
    with pytest.raises(ValueError):
        AgentPhone("ann", contact="sip:ann@127.0.0.1:5071;transport=tcp")
