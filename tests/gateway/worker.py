"""A stand-in for one gateway process, for tests/gateway/test_several_processes.py.

python tests/gateway/worker.py setup         -> adds the config's units and a desk account
python tests/gateway/worker.py intake N      -> prints the N case numbers it issued (JSON)
python tests/gateway/worker.py dispatches    -> prints how many dispatch events each inquiry has (JSON)
python tests/gateway/worker.py dispatch FILE UNIT -> waits for a line on stdin, dispatches every number
                                                 in FILE to UNIT, prints {number: "won" | "lost"} (JSON)
python tests/gateway/worker.py receive FILE  -> waits for a line on stdin, receives every WeChat text
                                                 message in FILE ([sender, MsgId] pairs) at once, prints
                                                 {dedupe key: [case number, joined]} (JSON)
python tests/gateway/worker.py messages      -> prints each inbound message's dedupe key and case number
Settings come from the environment (WENZHENG_DATABASE__URL, ...), as for `wenzheng serve`. The test
process itself never touches this database through the ORM: Tortoise keeps one SQL dialect per process,
and the rest of the suite may have run on SQLite.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.actors import Actor
from core.errors import IllegalAction
from core.messages import InboundMessage
from core.models import InquiryEvent, InquiryMessage, Staff
from core.service import InquiryService, IntakeRequest
from core.vocab import Channel, Kind
from gateway.app import build_service
from gateway.db import open_database
from gateway.settings import Settings, load_settings
from gateway.units import sync_units


async def intake(service: InquiryService, count: int) -> list[str]:
    request = IntakeRequest(
        channel=Channel.WEB, kind=Kind.COMPLAINT, category="chengguan", content="路灯不亮"
    )
    made = await asyncio.gather(*(service.intake(request, Actor.citizen()) for _ in range(count)))
    return [inquiry.number for inquiry in made]


async def dispatch(service: InquiryService, numbers: list[str], unit: str) -> dict[str, str]:
    desk = Actor.of_staff(await Staff.get(username="desk"))
    await asyncio.to_thread(sys.stdin.readline)  # the starting gun, so both processes race

    async def one(number: str) -> tuple[str, str]:
        try:
            await service.act(number, "dispatch", desk, {"unit": unit})
            return number, "won"
        except IllegalAction:
            return number, "lost"

    return dict(await asyncio.gather(*(one(n) for n in numbers)))


async def receive(service: InquiryService, messages: list[list[str]]) -> dict[str, list[object]]:
    await asyncio.to_thread(sys.stdin.readline)  # the starting gun, so the processes race
    now = datetime.now(UTC)

    async def one(sender: str, msg_id: str) -> tuple[str, list[object]]:
        message = InboundMessage(
            channel=Channel.WECHAT,
            sender=sender,
            kind="text",
            sent_at=now,
            raw=f"<xml><MsgId>{msg_id}</MsgId></xml>",
            text="供暖不热",
            platform_id=msg_id,
        )
        reception = await service.receive(message, kind=Kind.COMPLAINT, category="qita")
        return message.dedupe_key, [reception.inquiry.number, reception.joined]

    return dict(await asyncio.gather(*(one(sender, msg_id) for sender, msg_id in messages)))


async def main(argv: list[str], settings: Settings, batch: list[Any]) -> object:
    service = build_service(settings)
    async with open_database(settings.database_url):
        match argv[0]:
            case "setup":
                await sync_units(settings.units)
                await Staff.create(username="desk", display_name="desk", password_hash="!", role="desk")
                return "ok"
            case "intake":
                return await intake(service, int(argv[1]))
            case "dispatches":
                ids = await InquiryEvent.filter(action="dispatch").values_list("inquiry_id", flat=True)
                return Counter(str(i) for i in ids)
            case "receive":
                return await receive(service, batch)
            case "messages":
                return await InquiryMessage.filter(direction="in").values_list(
                    "dedupe_key", "inquiry__number"
                )
            case _:
                return await dispatch(service, batch, argv[2])


if __name__ == "__main__":
    args = sys.argv[1:]
    config = load_settings(Path(__file__).resolve().parents[2] / "config.yaml")
    batch = json.loads(Path(args[1]).read_text()) if args[0] in ("dispatch", "receive") else []
    print(json.dumps(asyncio.run(main(args, config, batch))))
