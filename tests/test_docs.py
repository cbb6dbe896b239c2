"""The documentation names everything that exists: every command and option in the README's and
the reference's command tables, every config key in the reference, and no link out of the
repository (sqlite-utils' test_docs.py does the same for its CLI)."""
from __future__ import annotations

import re

import click
import pytest

from newsletter.cli import cli
from newsletter.config import DEFAULTS

from helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    """(name path, command) of every runnable command."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), command


ALL = list(commands())


def table_rows(text: str, heading: str) -> dict[str, str]:
    """The first column (in backticks) -> the whole row, of the table under ``heading``."""
    section = text.split(heading, 1)[1]
    rows = {}
    for line in section.splitlines():
        if line.startswith("## "):
            break
        match = re.match(r"^\| `([^`]+)` \|(.*)$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


@pytest.mark.parametrize("name,command", ALL, ids=[name for name, _ in ALL])
def test_reference_names_every_command_and_option(name, command):
    rows = table_rows(REFERENCE, "## Commands")
    assert name in rows, f"docs/reference.md: command `{name}` is missing from the commands table"
    for param in command.params:
        if isinstance(param, click.Option):
            assert any(f"`{opt}" in rows[name] for opt in param.opts), \
                f"docs/reference.md: `{name}` option {param.opts[0]} is undocumented"


def test_readme_command_table_names_every_command_and_option():
    """A row may list a group's commands together: `issue list` / `show ID` / ..."""
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ")[0] for line in section.splitlines() if line.startswith("| `")]
    for name, command in ALL:
        group, _, leaf = name.rpartition(" ")
        row = next((r for r in rows if f"`{name}" in r or (group and r.startswith(f"| `{group} ")
                                                             and f"`{leaf}" in r)), None)
        assert row is not None, f"README.md: command `{name}` is missing from the command table"
        for param in command.params:
            if isinstance(param, click.Option):
                assert any(opt in row for opt in param.opts), \
                    f"README.md: `{name}` option {param.opts[0]} is missing from its row"


def test_reference_documents_every_config_key_with_its_default():
    rows = table_rows(REFERENCE, "## Configuration")
    for section, keys in DEFAULTS.items():
        for key, default in keys.items():
            row = rows.get(f"{section}.{key}")
            assert row is not None, f"docs/reference.md: config key {section}.{key} is undocumented"
            shown = {True: "true", False: "false"}.get(default, default) if isinstance(default, bool) else default
            written = f'"{shown}"' if isinstance(shown, str) and not isinstance(default, bool) else str(shown)
            assert f"`{written}`" in row, f"docs/reference.md: {section}.{key}: default {written} not shown"


def test_no_document_points_outside_the_repository():
    documents = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "config.example.toml"]
    for path in documents:
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                continue
            resolved = (path.parent / target.split("#")[0]).resolve()
            assert resolved.is_relative_to(ROOT), f"{path.name}: link {target} leaves the repository"
            assert resolved.exists(), f"{path.name}: link {target} points at nothing"
        assert "shared/" not in text, f"{path.name} mentions a folder outside the repository"


def architecture_modules() -> set[str]:
    """The module paths (``content/model.py``) the tree in docs/architecture.md lists."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    tree = text.split("```\nnewsletter/\n", 1)[1].split("```", 1)[0]
    listed, folders = set(), []  # folders: (indent, name) of the packages the line is inside
    for line in tree.splitlines():
        name = line.split()[0] if line.strip() else ""
        indent = len(line) - len(line.lstrip())
        if not name or indent == 0:
            continue
        folders = [(i, f) for i, f in folders if i < indent]
        if name.endswith("/"):
            folders.append((indent, name))
        elif name.endswith(".py"):
            listed.add("".join(f for _, f in folders) + name)
    return listed


def test_the_architecture_page_lists_every_module():
    modules = {str(p.relative_to(ROOT / "newsletter")) for p in (ROOT / "newsletter").rglob("*.py")}
    listed = architecture_modules()
    assert listed - modules == set(), "listed but missing"
    assert {m for m in modules - listed if not m.endswith("__init__.py")} == set(), "not listed"
