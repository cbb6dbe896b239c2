"""axe-core (npm, installed by .ci/run; see tests/browser.py) over the editor's and the public
pages in Debian's Chromium: no WCAG 2.1 A or AA violation."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from newsletter import create_app, delivery, issues, signing, store, subscribers, testers
from newsletter.config import load_config

from browser import AXE, axe_violations, live_server, log_in
from helpers import REAL, SEED

PASSWORD = "a11y-password"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci)")
    tmp = tmp_path_factory.mktemp("a11y")
    folder = tmp / "content"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    (folder / "2024-05-01-quiet.md").write_text("---\ntitle: Quiet streets\n---\nText.\n")
    config = load_config(
        overrides={"newsletter": dict(REAL), "content": {"dir": str(folder)},
                   "database": {"path": str(tmp / "instance" / "newsletter.db")},
                   "smtp": {"outbox": str(tmp / "instance" / "outbox")}},
        environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "a" * 32},
    )
    conn = store.connect(config)
    subscribers.add(conn, "reader@example.com")
    testers.add(conn, "editor@example.com")
    sent = issues.create(conn, folder, [SEED.stem])
    delivery.send_issue(conn, config, sent)
    draft = issues.create(conn, folder, ["quiet", SEED.stem], subject="A draft")
    scheduled = issues.create(conn, folder, ["quiet"], send_at=datetime(2031, 1, 1, 8, tzinfo=timezone.utc))
    with live_server(create_app({"NEWSLETTER": config})) as base:
        yield base, config, {"sent": sent, "draft": draft, "scheduled": scheduled}


@pytest.mark.parametrize("width", [1280, 375])
def test_editor_and_public_pages_have_no_axe_violations(browser, site, width):  # noqa: F811
    base, config, ids = site
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    token = signing.test_token(config, "issue", ids["draft"])
    public = ["/issues/9999/view", f"/test/{token}", f"/unsubscribe/{token}", f"/preferences/{token}",
              f"/issues/{ids['draft']}/read/quiet?t={token}", f"/read/{SEED.stem}"]
    for path in public:
        page.goto(base + path)
        assert axe_violations(page) == [], path
    log_in(page, base, PASSWORD)
    editor = ["/", "/issues", *(f"/issues/{n}" for n in ids.values()), f"/issues/{ids['draft']}/send",
              f"/issues/{ids['draft']}/preview", f"/articles/{SEED.stem}", "/subscribers", "/test-addresses"]
    for path in editor:
        page.goto(base + path)
        assert axe_violations(page) == [], path
    context.close()
