"""`wenzheng demo`'s seed and welcome: what a new user needs to take an inquiry from arrival to closed in
the browser (the inbox's address, accounts, reply templates, the citizen's link to a waiting case)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from core.models import Inquiry, ReplyTemplate
from gateway.db import open_database
from gateway.demo import DEMO_STAFF, _print_welcome, _seed
from gateway.inbox.admin_templates import placeholder_error
from gateway.settings import Settings


async def test_the_seed_adds_reply_templates_and_links_a_case_waiting_for_the_desk(
    settings: Settings,
) -> None:
    answered, waiting = await _seed(settings, "demo-password")
    async with open_database(settings.database_url):
        templates = await ReplyTemplate.all().select_related("unit").order_by("id")
        assert [(t.name, t.unit.code if t.unit else None, t.active) for t in templates] == [
            ("制度性答复", None, True),
            ("养老金发放答复", "rsj", True),
        ]
        assert [placeholder_error(t.body) for t in templates] == ["", ""]
        assert "{basis}" in templates[0].body
        assert "{contact}" in templates[0].body
        assert "{signature}" in templates[0].body
        cases = {}
        for link in (answered, waiting):
            parts = urlsplit(link)
            assert link.startswith(f"{settings.public_base_url}/cases/WZ")
            inquiry = await Inquiry.get(number=parts.path.rsplit("/", 1)[1])
            assert parse_qs(parts.query) == {"code": [inquiry.query_code]}
            cases[link] = inquiry
    assert (cases[answered].state, cases[waiting].state) == ("replied", "received")
    assert (cases[waiting].category, cases[waiting].kind) == ("shebao", "consultation")  # 人社局's


def test_the_welcome_names_the_inbox_the_admin_pages_and_the_waiting_case(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _print_welcome(settings, "pw-123", "http://h/cases/WZ1?code=A", "http://h/cases/WZ2?code=B")
    out = capsys.readouterr().out
    base = settings.public_base_url
    assert f"  staff inbox:       {base}/inbox   (sign in with a demo account below)\n" in out
    assert (
        f"  admin pages:       {base}/inbox/admin   (as admin: staff, units, categories, reply templates)\n"
        in out
    )
    assert "  new case:          http://h/cases/WZ2?code=B   (take it through the inbox" in out
    assert "  answered case:     http://h/cases/WZ1?code=A   (rate it as the citizen)\n" in out
    assert "(password for all: pw-123)" in out
    for username, _, _, name in DEMO_STAFF:
        assert username in out
        assert name in out
