"""Derive newsletter/data/caniemail.json from caniemail's features.json.

Usage: python scripts/derive_caniemail.py FEATURES_JSON [OUT_JSON]
(FEATURES_JSON: caniemail's support tables saved as one JSON object, slug -> feature, as read
from the front matter of its ``_features/*.md``; OUT_JSON defaults to newsletter/data/caniemail.json).

Keeps only what ``newsletter.check`` needs: for each feature that some target client does not
fully support, the current support value per target client (``n`` not supported, ``a`` partial)
and the notes that explain a partial value, as plain text. Outlook on Windows is the Word engine
of Outlook 2016/2019 (its latest tested version of those two). Untested (``u``) and supported
(``y``) clients are left out. The MIT notice of the source travels in LICENSE-caniemail.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "newsletter" / "data" / "caniemail.json"

#: client key -> (label, caniemail family, platform, versions to use (None = latest))
CLIENTS = {
    "gmail-webmail": ("Gmail (web)", "gmail", "desktop-webmail", None),
    "gmail-ios": ("Gmail (iOS)", "gmail", "ios", None),
    "gmail-android": ("Gmail (Android)", "gmail", "android", None),
    "outlook-windows": ("Outlook 2016/2019 (Windows)", "outlook", "windows", ("2016", "2019")),
    "outlook-com": ("Outlook.com", "outlook", "outlook-com", None),
    "outlook-macos": ("Outlook (macOS)", "outlook", "macos", None),
    "apple-mail-macos": ("Apple Mail (macOS)", "apple-mail", "macos", None),
    "apple-mail-ios": ("Apple Mail (iOS)", "apple-mail", "ios", None),
    "yahoo-webmail": ("Yahoo Mail (web)", "yahoo", "desktop-webmail", None),
}

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def plain(note: str) -> str:
    """A caniemail note (Markdown) as plain text."""
    return _LINK.sub(r"\1", note).replace("`", "").strip()


def current(versions: dict[str, str], wanted: tuple[str, ...] | None) -> str:
    keys = [v for v in versions if wanted is None or v in wanted] or list(versions)
    return versions[keys[-1]]


def derive(features: dict) -> dict:
    out: dict[str, dict] = {}
    for slug, feature in sorted(features.items()):
        support: dict[str, str] = {}
        notes: dict[str, str] = {}
        for key, (_label, family, platform, wanted) in CLIENTS.items():
            versions = feature.get("stats", {}).get(family, {}).get(platform)
            if not versions:
                continue
            value, *refs = current(versions, wanted).split()
            if value not in ("n", "a"):
                continue
            support[key] = value
            texts = [plain(feature.get("notes_by_num", {}).get(r.lstrip("#"), "")) for r in refs]
            if any(texts):
                notes[key] = " ".join(t for t in texts if t)
        if support:
            out[slug] = {"title": feature["title"], "support": support, "notes": notes}
    return {
        "source": "caniemail (hteumeuleu/caniemail), MIT licence: see LICENSE-caniemail",
        "clients": {key: spec[0] for key, spec in CLIENTS.items()},
        "features": out,
    }


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(f"usage: {argv[0]} FEATURES_JSON [OUT_JSON]")
    src = Path(argv[1])
    dst = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    data = derive(json.loads(src.read_text(encoding="utf-8")))
    dst.write_text(json.dumps(data, indent=0, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{dst}: {len(data['features'])} features")


if __name__ == "__main__":
    main(sys.argv)
