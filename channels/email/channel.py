"""The e-mail channel's registry entry: SMTP out, one supervised IMAP watcher per mailbox in."""

from __future__ import annotations

from channels.email.sender import SmtpSender
from channels.email.watcher import HUB_DOWN, SESSION_ERRORS, MailboxWatcher
from hub.config import Settings
from hub.domain.reply_limits import characters
from hub.registry import Buttons, Capabilities, ChannelDeps, ChannelEntry, Loop
from hub.supervisor import Backoff

MAX_MAIL_REPLY_CHARS = 10_000  # an e-mail has no limit of its own; one reply stays readable (and under the body cap)

FIRST_RETRY_S = 0.5


def channel(settings: Settings, deps: ChannelDeps) -> ChannelEntry | None:
    """On when an SMTP host or a mailbox is configured (either half may run alone).

    Each mailbox is read by one hub process at a time (lease ``email:<login@server/folder>``); a
    failed IMAP session is started again after 0.5 s doubling up to ``reconnect_max_s``."""
    email = settings.email
    if not email.smtp_host and not email.mailboxes:
        return None
    watchers = [MailboxWatcher(mailbox=m, settings=email, progress=deps.mailboxes, accept=deps.inbox.accept_inbound,
                               clock=deps.clock) for m in email.mailboxes]
    backoff = Backoff(first_s=FIRST_RETRY_S, max_s=email.reconnect_max_s)
    loops = tuple(Loop(name=f"channels:email:{n}", work=w.run, lease=f"email:{w.key}", backoff=backoff,
                       quiet=(*SESSION_ERRORS, *HUB_DOWN)) for n, w in enumerate(watchers))
    return ChannelEntry(name="email", sender=SmtpSender(email, deps.clock) if email.smtp_host else None, loops=loops,
                        capabilities=Capabilities(buttons=Buttons.NUMBERED, max_text_chars=None, receipts=False,
                                                  live=False, reply_limit=characters(MAX_MAIL_REPLY_CHARS),
                                                  files=True))
