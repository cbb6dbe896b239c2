"""Configuration: a TOML file over built-in defaults, secrets from the environment.

The file is ``--config``, else ``$NEWSLETTER_CONFIG``, else ``./config.toml`` when present,
else the defaults alone. Relative paths are relative to the config file's folder (to the
working directory when there is no file). An unknown key or a wrong type is a
:class:`ConfigError` naming the key.
"""
from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .bounces.verp import check_base_address
from .errors import ConfigError

#: section -> key -> default. The type of each default is the type the key must have.
DEFAULTS: dict[str, dict[str, Any]] = {
    "newsletter": {
        "name": "The Newsletter",
        "sender": "The Newsletter <newsletter@example.com>",
        "reply_to": "",
        "base_url": "http://127.0.0.1:5000",
        "postal_address": "123 Example Street, Springfield, USA",
        "language": "en",
        "special_use_domains": False,
        "list_id": "",
    },
    "content": {
        "dir": "content",
        "full_text": False,
    },
    "database": {
        "path": "instance/newsletter.db",
        "url": "",
        "busy_timeout": 30.0,
    },
    "smtp": {
        "backend": "outbox",
        "host": "localhost",
        "port": 587,
        "security": "starttls",
        "username": "",
        "connections": 4,
        "rate_limit": 0.0,
        "timeout": 30.0,
        "ca_file": "",
        "outbox": "instance/outbox",
    },
    "schedule": {
        "timezone": "UTC",
        "max_lateness": "6h",
        "cron_interval": "5m",
    },
    "branding": {
        "logo_url": "",
        "logo_width": 200,
        "logo_alt": "",
        "accent_color": "#2c6be8",
        "footer_text": "",
        "templates": "",
    },
    "archive": {
        "public": True,
    },
    "fetch": {
        "timeout": 30.0,
        "max_bytes": 10_000_000,
    },
    "bounces": {
        "address": "",
        "soft_limit": 3,
        "soft_window": "30d",
        "maildir": "",
        "imap_host": "",
        "imap_port": 993,
        "imap_username": "",
        "imap_folder": "INBOX",
        "processed_folder": "Processed",
        "imap_ca_file": "",
    },
    "doctor": {
        "dkim_selector": "",
        "relay_ip": "",
        "nameserver": "",
    },
    "subscribe": {
        "enabled": True,
        "double_opt_in": True,
        "confirm_expiry": "7d",
        "description": "",
        "privacy_note": "We use your address only to send you this newsletter. "
                        "Every issue has a link to unsubscribe.",
        "welcome": "",
        "record_ip": False,
        "allowed_origins": [],
        "min_seconds": 2.0,
        "signups_per_hour": 10,
        "mails_per_day": 3,
    },
    "server": {
        "workers": 2,
        "threads": 4,
        "trusted_proxies": 0,
    },
}

#: Arrays of tables (``[[feeds]]``, ``[[digests]]``): key -> default. Types are checked as for
#: :data:`DEFAULTS`; the keys in :data:`_REQUIRED_KEYS` must be given (their "" is no default).
ENTRIES: dict[str, dict[str, Any]] = {
    "feeds": {"name": "", "url": ""},
    "digests": {
        "name": "",
        "schedule": "",
        "feeds": [],
        "max_items": 10,
        "subject": "{name} — {date}",
        "auto": False,
    },
}
_REQUIRED_KEYS = {("feeds", "name"), ("feeds", "url"), ("digests", "name"), ("digests", "schedule")}

#: keys holding paths, resolved against the config file's folder
PATH_KEYS = {
    ("content", "dir"), ("database", "path"), ("smtp", "outbox"), ("smtp", "ca_file"),
    ("bounces", "maildir"), ("bounces", "imap_ca_file"), ("branding", "templates"),
}

CHOICES = {
    ("smtp", "backend"): ("outbox", "smtp"),
    ("smtp", "security"): ("starttls", "tls", "none"),
}

SECRET_ENV = {
    "smtp_password": "NEWSLETTER_SMTP_PASSWORD",
    "secret_key": "NEWSLETTER_SECRET_KEY",
    "editor_password": "NEWSLETTER_EDITOR_PASSWORD",
    "imap_password": "NEWSLETTER_IMAP_PASSWORD",
}

FORBIDDEN_IN_FOLDER = re.compile(r'[\x00-\x1f\x7f"]')
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: the longest duration a setting may name (ten years): longer ones overflow date arithmetic
MAX_DURATION = timedelta(days=3650)
#: bounds of the numeric settings: (section, key) -> (least, most)
RANGES = {
    ("smtp", "port"): (1, 65535),
    ("smtp", "connections"): (1, 100),
    ("smtp", "timeout"): (0.1, 3600.0),
    ("fetch", "timeout"): (0.1, 3600.0),
    ("database", "busy_timeout"): (0.0, 3600.0),
    ("branding", "logo_width"): (16, 600),
}


def parse_duration(text: str, key: str = "duration") -> timedelta:
    """``"90s"``, ``"30m"``, ``"6h"`` or ``"2d"`` as a timedelta (at most :data:`MAX_DURATION`)."""
    m = _DURATION.match(text)
    if not m:
        raise ConfigError(f"{key}: {text!r} is not a duration like '30m', '6h' or '2d'")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not seconds <= MAX_DURATION.total_seconds():
        raise ConfigError(f"{key}: {text!r} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine: ``localhost`` (and ``*.localhost``) or a loopback
    IP address. Nothing is looked up in DNS."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Config:
    """The effective settings. ``values[section][key]``, with paths made absolute."""

    values: dict[str, dict[str, Any]]
    source: Path | None = None
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    root: Path = field(default_factory=Path.cwd)
    secrets: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    # Convenience accessors used everywhere.
    @property
    def content_dir(self) -> Path:
        return Path(self.values["content"]["dir"])

    @property
    def database_path(self) -> Path:
        return Path(self.values["database"]["path"])

    @property
    def database_url(self) -> str:
        """The PostgreSQL database (``postgresql://…``), or "" for the SQLite file."""
        return self.values["database"]["url"]

    @property
    def outbox_path(self) -> Path:
        return Path(self.values["smtp"]["outbox"])

    @property
    def instance_path(self) -> Path:
        """Folder for state the app keeps (the SQLite file's folder, used for the secret key,
        the outbox and logs even when the database is PostgreSQL)."""
        return self.database_path.parent

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.values["schedule"]["timezone"])

    @property
    def max_lateness(self) -> timedelta:
        return parse_duration(self.values["schedule"]["max_lateness"], "schedule.max_lateness")

    @property
    def confirm_expiry(self) -> timedelta:
        return parse_duration(self.values["subscribe"]["confirm_expiry"], "subscribe.confirm_expiry")

    @property
    def cron_interval(self) -> timedelta:
        return parse_duration(self.values["schedule"]["cron_interval"], "schedule.cron_interval")

    @property
    def base_url(self) -> str:
        return self.values["newsletter"]["base_url"].rstrip("/")

    @property
    def feeds(self) -> list[dict[str, Any]]:
        """The ``[[feeds]]`` entries (``name``, ``url``: an http(s) URL or an absolute path)."""
        return self.entries.get("feeds", [])

    @property
    def digests(self) -> list[dict[str, Any]]:
        """The ``[[digests]]`` entries, every key present (defaults filled in)."""
        return self.entries.get("digests", [])

    @property
    def soft_window(self) -> timedelta:
        return parse_duration(self.values["bounces"]["soft_window"], "bounces.soft_window")

    def secret(self, name: str) -> str:
        """A secret from the environment (``smtp_password``, ``secret_key``, ``editor_password``,
        ``imap_password``)."""
        return self.secrets.get(name, "")


def find_config_file(explicit: str | os.PathLike | None = None) -> Path | None:
    """The config file to use, or None for the built-in defaults."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("NEWSLETTER_CONFIG")
    if env:
        return Path(env)
    local = Path("config.toml")
    return local if local.is_file() else None


def load_config(
    path: str | os.PathLike | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    environ: dict[str, str] | None = None,
) -> Config:
    """Read and validate the config (see module docstring); ``overrides`` win over the file."""
    source = find_config_file(path)
    data: dict[str, Any] = {}
    if source is not None:
        try:
            raw = source.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{source}: config file not found") from None
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read config file: {exc.strerror}") from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise ConfigError(f"{source}:{line}: config file is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: invalid TOML: {exc}") from None
        except RecursionError:
            raise ConfigError(f"{source}: invalid TOML: arrays or tables nested too deeply") from None
    where = str(source) if source else "config"
    for section, table in (overrides or {}).items():
        data.setdefault(section, {}).update(table)

    values = {section: dict(keys) for section, keys in DEFAULTS.items()}
    entries: dict[str, list[dict[str, Any]]] = {name: [] for name in ENTRIES}
    for section, table in data.items():
        if section in ENTRIES:
            entries[section] = _entries(where, section, table)
            continue
        if section not in DEFAULTS:
            raise ConfigError(f"{where}: unknown section [{section}]")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{section}] must be a table")
        for key, value in table.items():
            values[section][key] = _check(where, section, key, value)

    root = source.resolve().parent if source else Path.cwd()
    for section, key in PATH_KEYS:
        if values[section][key]:
            values[section][key] = str((root / Path(values[section][key]).expanduser()).resolve())
    for feed in entries["feeds"]:
        if not re.match(r"^https?://", feed["url"], re.I):
            feed["url"] = str((root / Path(feed["url"]).expanduser()).resolve())
    _check_semantics(where, values)
    _check_entries(where, entries)
    env = os.environ if environ is None else environ
    secrets = {name: env.get(var, "") for name, var in SECRET_ENV.items()}
    return Config(values=values, source=source, root=root, secrets=secrets, entries=entries)


def _check(where: str, section: str, key: str, value: Any) -> Any:
    if key not in DEFAULTS[section]:
        raise ConfigError(f"{where}: unknown key {section}.{key}")
    value = _typed(where, f"{section}.{key}", DEFAULTS[section][key], value)
    choices = CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(f"{where}: {section}.{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _entries(where: str, section: str, table: Any) -> list[dict[str, Any]]:
    """Check a ``[[section]]`` array: tables of known keys, required keys present, names unique."""
    if not isinstance(table, list) or not all(isinstance(entry, dict) for entry in table):
        raise ConfigError(f"{where}: {section} must be written as [[{section}]] tables")
    found: list[dict[str, Any]] = []
    names: set[str] = set()
    for number, entry in enumerate(table, 1):
        label = f"[[{section}]] #{number}"
        filled = dict(ENTRIES[section])
        for key, value in entry.items():
            if key not in ENTRIES[section]:
                raise ConfigError(f"{where}: {label}: unknown key {section}.{key}")
            filled[key] = _typed(where, f"{label}: {section}.{key}", ENTRIES[section][key], value)
        for key in ENTRIES[section]:
            if (section, key) in _REQUIRED_KEYS and not str(filled[key]).strip():
                raise ConfigError(f"{where}: {label}: {section}.{key} is required")
        if filled["name"] in names:
            raise ConfigError(f"{where}: {label}: {section}.name {filled['name']!r} is used twice")
        names.add(filled["name"])
        found.append(filled)
    return found


def _typed(where: str, key: str, default: Any, value: Any) -> Any:
    """``value`` if it has the type of ``default`` (an int is taken for a float), else ConfigError."""
    if isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        if not ok:
            raise ConfigError(f"{where}: {key} must be a list of strings, not {value!r}")
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
        if ok and not math.isfinite(value):
            raise ConfigError(f"{where}: {key} must be a finite number, not {value!r}")
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(
            f"{where}: {key} must be {type(default).__name__}, not {type(value).__name__} ({value!r})"
        )
    return value


def _check_semantics(where: str, values: dict[str, dict[str, Any]]) -> None:
    smtp = values["smtp"]
    for (section, key), (least, most) in RANGES.items():
        if not least <= values[section][key] <= most:
            raise ConfigError(f"{where}: {section}.{key} must be between {least:g} and {most:g}")
    if smtp["rate_limit"] != 0 and not 0.001 <= smtp["rate_limit"] <= 1_000_000:
        raise ConfigError(f"{where}: smtp.rate_limit must be 0 (no limit) or between 0.001 and 1000000")
    if smtp["backend"] == "smtp" and smtp["security"] == "none" and smtp["username"] \
            and not is_loopback(smtp["host"]):
        raise ConfigError(
            f"{where}: smtp.security = \"none\" would send the password of smtp.username in clear"
            f" text to {smtp['host']}; use \"starttls\" or \"tls\" (plain AUTH only to a loopback host)"
        )
    if values["fetch"]["max_bytes"] < 1000:
        raise ConfigError(f"{where}: fetch.max_bytes must be at least 1000")
    try:
        ZoneInfo(values["schedule"]["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: schedule.timezone {values['schedule']['timezone']!r} is not a known time zone"
        ) from None
    parse_duration(values["schedule"]["max_lateness"], f"{where}: schedule.max_lateness")
    parse_duration(values["schedule"]["cron_interval"], f"{where}: schedule.cron_interval")
    check_database_url(values["database"]["url"], f"{where}: database.url")
    _check_bounces(where, values["bounces"])
    _check_doctor(where, values["doctor"])
    _check_subscribe(where, values["subscribe"])
    _check_server(where, values["server"])
    base = values["newsletter"]["base_url"]
    if not re.match(r"^https?://[^/\s]+", base):
        raise ConfigError(f"{where}: newsletter.base_url must start with http:// or https://")
    list_id = values["newsletter"]["list_id"]
    if list_id and not _LIST_ID.match(list_id):
        raise ConfigError(f"{where}: newsletter.list_id {list_id!r} must look like a domain name,"
                          " e.g. weekly.example.org")
    _check_branding(where, values["branding"])


def check_database_url(url: str, what: str) -> None:
    """A PostgreSQL URL without a password (libpq reads it from PGPASSWORD or ~/.pgpass);
    ``what`` names it in the error ("config.toml: database.url", "--to")."""
    if not url:
        return
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"{what} must start with postgresql:// (or be empty for SQLite)")
    if parts.password is not None:
        raise ConfigError(f"{what} must not hold a password; set PGPASSWORD or use ~/.pgpass")


def _check_entries(where: str, entries: dict[str, list[dict[str, Any]]]) -> None:
    """Digest schedules and subjects that make sense, naming only configured feeds."""
    from .digests import check_subject, parse_schedule

    feed_names = {feed["name"] for feed in entries["feeds"]}
    for number, digest in enumerate(entries["digests"], 1):
        label = f"{where}: [[digests]] #{number} ({digest['name']})"
        try:
            parse_schedule(digest["schedule"])
            check_subject(digest["subject"])
        except ValueError as exc:
            raise ConfigError(f"{label}: {exc}") from None
        unknown = [name for name in digest["feeds"] if name not in feed_names]
        if unknown:
            raise ConfigError(f"{label}: digests.feeds names {unknown[0]!r}, which is no [[feeds]] name")
        if digest["max_items"] < 1:
            raise ConfigError(f"{label}: digests.max_items must be at least 1")


def _check_doctor(where: str, doctor: dict[str, Any]) -> None:
    if doctor["relay_ip"]:
        try:
            ipaddress.ip_address(doctor["relay_ip"])
        except ValueError:
            raise ConfigError(f"{where}: doctor.relay_ip {doctor['relay_ip']!r} is not an IP address") from None
    if doctor["dkim_selector"] and not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", doctor["dkim_selector"]):
        raise ConfigError(f"{where}: doctor.dkim_selector {doctor['dkim_selector']!r} is not a DNS name")
    server = doctor["nameserver"]
    host, port = server.rsplit(":", 1) if server.count(":") == 1 else (server, "53")
    try:
        if server:
            ipaddress.ip_address(host)
            if not 1 <= int(port) <= 65535:
                raise ValueError
    except ValueError:
        raise ConfigError(f"{where}: doctor.nameserver {server!r} is not an IP address or IP:PORT") from None


def _check_bounces(where: str, bounces: dict[str, Any]) -> None:
    if bounces["address"]:
        check_base_address(bounces["address"], f"{where}: bounces.address")
    if bounces["soft_limit"] < 1:
        raise ConfigError(f"{where}: bounces.soft_limit must be at least 1")
    parse_duration(bounces["soft_window"], f"{where}: bounces.soft_window")
    if not 1 <= bounces["imap_port"] <= 65535:
        raise ConfigError(f"{where}: bounces.imap_port must be between 1 and 65535")
    if bounces["maildir"] and bounces["imap_host"]:
        raise ConfigError(f"{where}: set bounces.maildir or bounces.imap_host, not both")
    for key in ("imap_folder", "processed_folder"):
        if not bounces[key].strip() or FORBIDDEN_IN_FOLDER.search(bounces[key]):
            raise ConfigError(f"{where}: bounces.{key} must be a folder name on one line")


_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")


def _check_subscribe(where: str, sub: dict[str, Any]) -> None:
    expiry = parse_duration(sub["confirm_expiry"], f"{where}: subscribe.confirm_expiry")
    if expiry.total_seconds() < 60:
        raise ConfigError(f"{where}: subscribe.confirm_expiry must be at least a minute")
    for origin in sub["allowed_origins"]:
        if not _ORIGIN.match(origin):
            raise ConfigError(f"{where}: subscribe.allowed_origins: {origin!r} is not an origin like "
                              "'https://example.com' (scheme and host, no path)")
    for key in ("min_seconds", "signups_per_hour", "mails_per_day"):
        if sub[key] < 0:
            raise ConfigError(f"{where}: subscribe.{key} must be 0 or more")


def _check_server(where: str, server: dict[str, Any]) -> None:
    for key in ("workers", "threads"):
        if not 1 <= server[key] <= 64:
            raise ConfigError(f"{where}: server.{key} must be between 1 and 64")
    if server["trusted_proxies"] < 0:
        raise ConfigError(f"{where}: server.trusted_proxies must be 0 or more")


_LIST_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _check_branding(where: str, branding: dict[str, Any]) -> None:
    if branding["logo_url"] and not branding["logo_url"].startswith(("https://", "http://")):
        raise ConfigError(f"{where}: branding.logo_url must be an absolute http(s) URL:"
                          " mail clients cannot load a relative path")
    if not _HEX_COLOR.match(branding["accent_color"]):
        raise ConfigError(f"{where}: branding.accent_color {branding['accent_color']!r} must be"
                          " a colour written #rrggbb")
    folder = branding["templates"]
    if folder and not Path(folder).is_dir():
        raise ConfigError(f"{where}: branding.templates: {folder} is not a folder")
