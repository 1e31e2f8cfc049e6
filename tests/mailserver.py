"""A real mail system for tests: Postfix (SMTP) delivering over LMTP into Dovecot (IMAP).

Both run from a temporary directory with their own configuration, on free loopback ports, as
separate processes stopped by PID; the machine's stock services are never used (they are not
even started: scripts/mail.sh). Every address of ``hub.test`` or ``example.test`` whose local part
starts with ``support`` or ``customer`` has a mailbox (IMAP password ``PASSWORD``); mail to any
other address of those domains is refused at RCPT (550), and mail to any other domain is refused
as relaying (554): nothing leaves the machine. Postfix's master needs root (as on CI); Dovecot
keeps the mail as its own user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import aioimaplib  # type: ignore[import-untyped]
import aiosmtplib
from pydantic import SecretStr

from hub.config import EmailSettings, MailboxSettings
from hub.embedded import EmbeddedServiceError, _die_with_parent, free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "mail-test-pass"
DOMAINS = ("hub.test", "example.test")
SUPPORT = "support@hub.test"
POSTFIX_MASTER = Path("/usr/lib/postfix/sbin/master")

DOVECOT_CONF = """\
base_dir = {dir}/dovecot-run
state_dir = {dir}/dovecot-state
log_path = {dir}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
mail_location = maildir:{dir}/mail/%u
first_valid_uid = {uid}
last_valid_uid = {uid}
default_internal_user = dovecot
default_login_user = dovenull
imap_idle_notify_interval = 1 secs
lmtp_save_to_detail_mailbox = no
namespace inbox {{
  inbox = yes
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%u allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
"""

POSTFIX_MAIN = """\
compatibility_level = 3.6
queue_directory = {dir}/postfix-queue
data_directory = {dir}/postfix-data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {dir}/postfix.log
maillog_file_prefixes = {dir}
myhostname = mail.hub.test
mydomain = hub.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
relay_domains =
virtual_mailbox_domains = {domains}
virtual_mailbox_maps = regexp:{dir}/postfix-mailboxes
virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}
default_transport = error:no mail leaves the test machine
relay_transport = error:no mail leaves the test machine
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
smtp_dns_support_level = disabled
lmtp_host_lookup = native
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
lmtp_connect_timeout = 2s
"""

# Only the services a loopback relay into LMTP needs; no chroot (column 5 "n").
POSTFIX_MASTER_CF = """\
127.0.0.1:{smtp_port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def install() -> None:
    """Install Dovecot and Postfix through the project's script (idempotent, quick when done)."""
    subprocess.run([str(ROOT / "scripts" / "mail.sh")], check=True, timeout=900, stdout=subprocess.DEVNULL)


MAILBOXES = r"/^(support|customer)[a-z0-9._+-]*@(hub|example)\.test$/ ok" + "\n"


@dataclass
class MailServer:
    """Dovecot (IMAP, LMTP) and Postfix (SMTP) in ``directory``; ``start``/``stop`` each by PID."""

    directory: Path
    imap_port: int = field(default_factory=free_port)
    lmtp_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    password: str = PASSWORD
    _dovecot: subprocess.Popen[bytes] | None = None
    _postfix: subprocess.Popen[bytes] | None = None

    # -- configuration ------------------------------------------------------------------------
    def configure(self) -> MailServer:
        if os.geteuid() != 0:
            raise EmbeddedServiceError("the mail test peers need root (Postfix's master); CI runs as root")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)  # Dovecot and Postfix children run as their own users
        owner = pwd.getpwnam("dovecot")
        values = {"dir": self.directory, "uid": owner.pw_uid, "gid": owner.pw_gid, "imap_port": self.imap_port,
                  "password": self.password,
                  "lmtp_port": self.lmtp_port, "smtp_port": self.smtp_port, "domains": " ".join(DOMAINS)}
        (self.directory / "dovecot.conf").write_text(DOVECOT_CONF.format(**values))
        mail = self.directory / "mail"
        mail.mkdir(exist_ok=True)
        os.chown(mail, owner.pw_uid, owner.pw_gid)
        postfix = self.directory / "postfix"
        postfix.mkdir(exist_ok=True)
        (self.directory / "postfix-queue").mkdir(exist_ok=True)
        (postfix / "main.cf").write_text(POSTFIX_MAIN.format(**values))
        (postfix / "master.cf").write_text(POSTFIX_MASTER_CF.format(**values))
        (self.directory / "postfix-mailboxes").write_text(MAILBOXES)
        # Creates the queue directories with Postfix's own owners and modes.
        subprocess.run(["postfix", "-c", str(postfix), "check"], check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    # -- processes ----------------------------------------------------------------------------
    def start(self) -> MailServer:
        self.start_imap()
        self.start_smtp()
        return self

    def start_imap(self) -> None:
        log = (self.directory / "dovecot.stdout").open("ab")
        self._dovecot = subprocess.Popen(["dovecot", "-F", "-c", str(self.directory / "dovecot.conf")],
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        log.close()
        wait_for_port(self.imap_port, self._dovecot, "dovecot")
        wait_for_port(self.lmtp_port, self._dovecot, "dovecot lmtp")

    def start_smtp(self) -> None:
        log = (self.directory / "postfix.stdout").open("ab")
        self._postfix = subprocess.Popen([str(POSTFIX_MASTER), "-c", str(self.directory / "postfix"), "-d"],
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        log.close()
        wait_for_port(self.smtp_port, self._postfix, "postfix")

    def stop_imap(self) -> None:
        _stop(self._dovecot)
        self._dovecot = None

    def stop_smtp(self) -> None:
        _stop(self._postfix)
        self._postfix = None

    def stop(self) -> None:
        self.stop_smtp()
        self.stop_imap()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM the master (Dovecot's and Postfix's stop their children), wait, SIGKILL the group if needed."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def running_mail_server() -> Iterator[MailServer]:
    """Install if needed, configure in a fresh temporary directory, start; stop and remove after."""
    install()
    server = MailServer(Path(tempfile.mkdtemp(prefix="hub-mail-"))).configure()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def email_settings(server: MailServer, *mailboxes: str, **overrides: Any) -> EmailSettings:
    """The hub's e-mail settings against ``server``: the given support mailboxes, SMTP without TLS."""
    boxes = [MailboxSettings(host=server.host, port=server.imap_port, tls=False, username=address,
                             password=SecretStr(server.password)) for address in mailboxes or (SUPPORT,)]
    options: dict[str, Any] = {
        "mailboxes": boxes, "smtp_host": server.host, "smtp_port": server.smtp_port, "smtp_starttls": False,
        "from_address": SUPPORT, "from_name": "Northgrid", "poll_s": 1.0, "timeout_s": 5.0,
        "reconnect_max_s": 1.0, **overrides}
    return EmailSettings(**options)


def customer_address() -> str:
    return f"customer-{uuid.uuid4().hex[:10]}@example.test"


def customer_mail(sender: str, text: str, *, to: str = SUPPORT, subject: str = "Question",
                  **headers: str) -> EmailMessage:
    """An e-mail as a customer's mail client writes it (a fresh Message-ID unless given)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="example.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


async def smtp_send(server: MailServer, message: EmailMessage | bytes, *, sender: str,
                    recipients: list[str]) -> None:
    """Submit over SMTP to Postfix, exactly what a customer's mail provider would deliver."""
    await aiosmtplib.send(message, sender=sender, recipients=recipients, hostname=server.host,
                          port=server.smtp_port, start_tls=False, timeout=10)


async def mailbox(server: MailServer, address: str, folder: str = "INBOX") -> list[EmailMessage]:
    """Every message in ``address``'s folder, read over IMAP (BODY.PEEK: nothing marked)."""
    client = aioimaplib.IMAP4(host=server.host, port=server.imap_port, timeout=10)
    await client.wait_hello_from_server()
    try:
        await client.login(address, server.password)
        selected = await client.select(folder)
        if selected.result != "OK":
            return []
        found = await client.search("ALL", charset=None)
        numbers = [n for n in bytes(found.lines[0]).split() if n.isdigit()]
        messages = []
        for number in numbers:
            response = await client.fetch(number.decode(), "(BODY.PEEK[])")
            literals = [bytes(line) for line in response.lines[1:-1] if isinstance(line, bytes | bytearray)]
            raw = max(literals, key=len, default=b"")
            parsed = message_from_bytes(raw, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            messages.append(parsed)
        return messages
    finally:
        await client.logout()


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""
