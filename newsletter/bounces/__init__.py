"""Bounces and complaints: reading what comes back, and what it does to the list.

- :mod:`.verp` builds and reads the signed envelope sender ``bounces+TOKEN@domain``;
- :mod:`.classify` turns one message (bytes) into a :class:`~.classify.Reading`: a hard or soft
  bounce, a complaint, an auto-reply to ignore, or something not understood; :mod:`.dsn`,
  :mod:`.arf` and :mod:`.autoreply` read the formats;
- :mod:`.apply` stores what a reading means (events, subscriber statuses, kept messages);
- :mod:`.intake` reads messages from files, stdin, a Maildir or an IMAP mailbox.
"""
