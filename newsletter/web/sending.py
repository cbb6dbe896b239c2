"""Hand an issue to ``python -m newsletter send ID`` in its own process, outside any request.

The child gets exactly the app's config: the app's config file when that file reads as the
app's settings, else (no file, or an app made with overrides) the effective settings written
to ``instance/send-config.toml`` (0600); the secrets go in its environment.
Its output goes to ``instance/logs/send-ID.log``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from ..config import SECRET_ENV, Config, load_config
from ..private_files import open_private, write_private

PACKAGE_PARENT = Path(__file__).resolve().parent.parent.parent

_running: dict[int, subprocess.Popen] = {}
_lock = threading.Lock()


def log_path(config: Config, issue_id: int) -> Path:
    return config.instance_path / "logs" / f"send-{issue_id}.log"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _reads_as(path: Path, config: Config) -> bool:
    return load_config(path, environ={}).values == config.values


def config_file(config: Config) -> Path:
    """A config file the child reads as exactly ``config`` (the app's own file, if it does)."""
    if config.source is not None and _reads_as(Path(config.source).resolve(), config):
        return Path(config.source).resolve()
    lines = []
    for section, table in config.values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
        lines.append("")
    path = config.instance_path / "send-config.toml"
    write_private(path, "\n".join(lines))
    if not _reads_as(path, config):
        raise RuntimeError(f"{path}: does not reproduce the app's settings")
    return path


def running(issue_id: int) -> bool:
    with _lock:
        proc = _running.get(issue_id)
        return proc is not None and proc.poll() is None


def start(config: Config, issue_id: int) -> Path:
    """Start ``send ISSUE_ID`` detached; returns its log file. Never waits for it."""
    log = log_path(config, issue_id)
    env = {k: v for k, v in os.environ.items() if k != "NEWSLETTER_CONFIG"}
    # this very package, wherever the child's working folder (the config file's) is
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    env.update({var: config.secret(name) for name, var in SECRET_ENV.items() if config.secret(name)})
    args = [sys.executable, "-m", "newsletter", "--config", str(config_file(config)), "send", str(issue_id)]
    with open_private(log, "ab") as out:
        proc = subprocess.Popen(
            args,
            cwd=config.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with _lock:
        _running[issue_id] = proc
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it ends
    return log


def log_tail(config: Config, issue_id: int, lines: int = 20) -> str:
    try:
        data = log_path(config, issue_id).read_bytes()[-8192:]
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
