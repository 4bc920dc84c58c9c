"""Filling in the citizen's web form as a browser would: its hidden tokens, and a valid set of fields."""

from __future__ import annotations

import re
from typing import Any

CSRF = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')
FORM_ID = re.compile(r'<input type="hidden" name="form_id" value="([^"]+)">')
RECEIPT = re.compile(r"^/cases/(WZ\d{8}-\d{5})\?code=([A-Z0-9]{6})&new=1$")

VALID = {
    "content": "我单位未按时为我缴纳社保，已经拖欠三个月，请有关部门督促。",
    "kind": "complaint",
    "category": "shebao",
    "location": "天山区 人民路 1 号",
    "latitude": "43.8256",
    "longitude": "87.6168",
    "contact_name": "张三丰",
    "contact_phone": "13912345678",
    "consent": "1",
}


async def read_tokens(client: Any, path: str) -> dict[str, str]:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    html = await response.text()
    tokens = {"csrf_token": CSRF.search(html)[1]}  # type: ignore[index]
    if match := FORM_ID.search(html):
        tokens["form_id"] = match[1]
    return tokens
