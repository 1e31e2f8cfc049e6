"""The e-mail channel: IMAP mailboxes in (``watcher``), SMTP out (``sender``), pure MIME in between."""
