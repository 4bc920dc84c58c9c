"""Citizens' photos and voices: recorded with the message, fetched from the fake API, kept on disk."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from channels.wechat.api import WeChatApi
from channels.wechat.media import fetch_media, safe_filename
from channels.wechat.simulator import FakeWeChatApi
from core.messages import InboundMessage
from core.models import Attachment
from core.service import InquiryService
from core.vocab import Channel, Kind

pytestmark = pytest.mark.usefixtures("db")

APP_ID, SECRET = "wxmedia00000000000", "secret"
START = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
PHOTO = b"\xff\xd8\xff\xe0 a photo of a broken street lamp"


@pytest.fixture
def fake() -> FakeWeChatApi:
    fake = FakeWeChatApi(app_id=APP_ID, app_secret=SECRET)
    fake.add_media("m-photo", PHOTO, "image/jpeg")
    return fake


@pytest.fixture
async def api(fake: FakeWeChatApi, aiohttp_server: Any) -> AsyncIterator[WeChatApi]:
    server = await aiohttp_server(fake.app)
    async with aiohttp.ClientSession() as session:
        yield WeChatApi(session, APP_ID, SECRET, api_base=str(server.make_url("")))


def image(msg_id: str, media_id: str, sent: datetime = START) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WECHAT, sender="oCitizen", kind="image", sent_at=sent, raw="<xml/>",
        media_id=media_id, platform_id=msg_id,
    )  # fmt: skip


@pytest.fixture
def svc(service: InquiryService) -> InquiryService:
    return InquiryService(service.rules, service.deadlines, clock=lambda: START)


async def test_a_photo_is_fetched_and_kept_with_its_inquiry(
    svc: InquiryService, api: WeChatApi, tmp_path: Path
) -> None:
    inquiry = (await svc.receive(image("1", "m-photo"), kind=Kind.COMPLAINT, category="qita")).inquiry
    pending = await Attachment.get(inquiry_id=inquiry.id)
    assert (pending.state, pending.media_id) == ("pending", "m-photo")
    assert await fetch_media(api, tmp_path, START) == 1
    kept = await Attachment.get(inquiry_id=inquiry.id)
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert (kept.state, kept.content_type, kept.size, kept.sha256) == (
        "stored",
        "image/jpeg",
        len(PHOTO),
        digest,
    )
    assert (tmp_path / kept.storage_path).read_bytes() == PHOTO
    assert kept.storage_path.startswith(f"{inquiry.id}/{digest[:16]}-")
    assert await fetch_media(api, tmp_path, START + timedelta(minutes=5)) == 0


async def test_a_photo_that_joins_an_inquiry_is_fetched_too(
    svc: InquiryService, api: WeChatApi, tmp_path: Path
) -> None:
    first = (await svc.receive(image("1", "m-photo"), kind=Kind.COMPLAINT, category="qita")).inquiry
    joined = await svc.receive(image("2", "m-photo"), kind=Kind.COMPLAINT, category="qita")
    assert joined.joined
    assert await Attachment.filter(inquiry_id=first.id, state="pending").count() == 2
    assert await fetch_media(api, tmp_path, START) == 2


async def test_an_expired_media_id_fails_without_retrying(
    svc: InquiryService, api: WeChatApi, tmp_path: Path
) -> None:
    await svc.receive(image("1", "m-gone"), kind=Kind.COMPLAINT, category="qita")
    assert await fetch_media(api, tmp_path, START) == 0
    failed = await Attachment.get()
    assert failed.state == "failed"
    assert failed.last_error.startswith("40007")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("m1.jpg", "m1.jpg"),
        ("../../etc/passwd", "passwd"),
        ("a b.amr", "a_b.amr"),
        ("..\\x.jpg", "x.jpg"),
        ("", "fb"),
    ],
)
def test_safe_filenames(name: str, safe: str) -> None:
    assert safe_filename(name, "fb") == safe
