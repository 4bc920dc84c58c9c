"""The whole life over HTTP, as in the demo: a citizen's web form → the staff API → the citizen rates."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core.deadlines import Clock, DeadlinePolicy
from core.models import Inquiry


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return found[1]


async def test_from_the_web_form_to_closed(client: Any, make_staff: Any, login: Any, service: Any) -> None:
    await make_staff("desk1", "desk")
    await make_staff("rsj-zhang", "handler", "rsj")
    desk, handler = await login("desk1"), await login("rsj-zhang")

    form = await (await client.get("/submit")).text()
    submitted = await client.post(
        "/submit",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "form_id": hidden(form, "form_id"),
            "content": "我10月份办理了退休手续，养老金到现在还没有发放。",
            "kind": "consultation",
            "category": "shebao",
            "contact_name": "王女士",
            "contact_phone": "13912345678",
            "consent": "1",
        },
        allow_redirects=False,
    )
    assert submitted.status == 303
    location = urlsplit(submitted.headers["Location"])
    number, code = location.path.rsplit("/", 1)[1], parse_qs(location.query)["code"][0]
    receipt = await (await client.get(submitted.headers["Location"])).text()
    assert number in receipt
    assert code in receipt

    listed = await (await client.get("/api/v1/inquiries?state=received", headers=desk)).json()
    assert [item["number"] for item in listed["items"]] == [number]

    dispatched = await client.post(f"/api/v1/inquiries/{number}/actions/dispatch", json={}, headers=desk)
    assert dispatched.status == 200
    assert (await dispatched.json())["unit"]["code"] == "rsj"
    acknowledged = await client.post(f"/api/v1/inquiries/{number}/actions/acknowledge", headers=handler)
    body = await acknowledged.json()
    reply_due = datetime.fromisoformat(body["reply_due_at"])
    acknowledged_at = datetime.fromisoformat(body["acknowledged_at"])
    expected = service.deadlines.due(acknowledged_at, DeadlinePolicy(Clock.working_days, 7))
    assert reply_due == expected.due_at
    assert body["reply_due_at"].endswith("+08:00")
    replied = await client.post(
        f"/api/v1/inquiries/{number}/actions/reply",
        json={"text": "您的养老金已于本月核发，请查收。", "resolved": True, "basis": "《社会保险法》"},
        headers=handler,
    )
    assert (await replied.json())["state"] == "replied"

    case_page = await (await client.get(f"/cases/{number}?code={code}")).text()
    assert "您的养老金已于本月核发，请查收。" in case_page
    rated = await client.post(
        f"/cases/{number}/rate",
        data={
            "csrf_token": hidden(case_page, "csrf_token"),
            "code": code,
            "rating": "satisfied",
            "comment": "谢谢",
        },
        allow_redirects=False,
    )
    assert rated.status == 303

    final = await (await client.get(f"/api/v1/inquiries/{number}", headers=desk)).json()
    assert (final["state"], final["rating"]["value"], final["close_reason"]) == (
        "closed",
        "satisfied",
        "rated",
    )
    assert [(e["action"], e["from"], e["to"]) for e in final["events"]] == [
        ("intake", None, "received"),
        ("dispatch", "received", "dispatched"),
        ("acknowledge", "dispatched", "acknowledged"),
        ("reply", "acknowledged", "replied"),
        ("rate", "replied", "closed"),
    ]
    assert (await Inquiry.get(number=number)).contact_phone == "13912345678"
