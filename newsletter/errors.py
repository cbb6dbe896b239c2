"""Domain exceptions. Each carries the CLI exit status of the contract."""


class NewsletterError(Exception):
    """Base class: an expected failure with a one-line message."""

    exit_code = 2


class ConfigError(NewsletterError):
    """Bad config file, key or value (exit 2)."""


class ContentError(NewsletterError):
    """An article that cannot be read at all (exit 2)."""


class InputError(NewsletterError):
    """Bad command input: unknown slug, issue id, address, CSV file (exit 2)."""


class LinkExpired(InputError):
    """A genuine signed link used after its expiry; ``ref`` names who it was for."""

    def __init__(self, message: str, ref):
        super().__init__(message)
        self.ref = ref


class HeaderError(InputError):
    """A header value carrying CR, LF, NUL or an encoded newline (exit 2)."""


class StorageError(NewsletterError):
    """The database cannot be used: locked by another program for too long, disk full, an
    I/O error (exit 2). What was recorded stays recorded; a rerun goes on from there."""


class TransportError(NewsletterError):
    """The mail server could not be reached or refused login (exit 3)."""

    exit_code = 3
