"""Bounces and complaints: reading what comes back, and what it does to the list.

- :mod:`.verp` builds and reads the signed envelope sender ``bounces+TOKEN@domain``;
- :mod:`.classify` turns one message (bytes) into a :class:`~.results.Reading`: a hard or soft
  bounce, a complaint, an auto-reply to ignore, or something not understood; :mod:`.dsn`,
  :mod:`.arf` and :mod:`.autoreply` read the formats;
- :mod:`.events` stores bounce events and applies their rules (also for a refusal at ``RCPT TO``
  during a send); :mod:`.apply` does it for a reading, and keeps what is not understood;
- :mod:`.intake` reads messages from files, stdin, a Maildir or an IMAP mailbox;
- :mod:`.stats` counts an issue's bounces and complaints against the providers' limits.
"""
