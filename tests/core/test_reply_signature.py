"""The reply's contact and signing spokesperson, and the template placeholders they fill in."""

from __future__ import annotations

import pytest

from core.actors import Actor
from core.errors import InvalidInput
from core.models import Inquiry, InquiryEvent, Staff
from core.service import InquiryService, IntakeRequest
from core.vocab import Channel, Kind

pytestmark = pytest.mark.usefixtures("db")

RSJ = "市人力资源和社会保障局"


@pytest.fixture
async def acknowledged(service: InquiryService, make_staff) -> tuple[str, Actor]:
    """An inquiry acknowledged by an rsj handler, and that handler."""
    desk = Actor.of_staff(await make_staff("desk", "desk"))
    handler = Actor.of_staff(await make_staff("rsj-h", "handler", "rsj"))
    request = IntakeRequest(
        channel=Channel.WEB, kind=Kind.CONSULTATION, category="shebao", content="养老金何时发放？"
    )
    number = (await service.intake(request, Actor.citizen())).number
    await service.act(number, "dispatch", desk, {"unit": "rsj"})
    await service.act(number, "acknowledge", handler, {})
    return number, handler


async def test_a_chosen_spokesperson_signs_and_the_contact_is_kept(
    service: InquiryService, make_staff, acknowledged: tuple[str, Actor]
) -> None:
    number, handler = acknowledged
    spokesperson = await make_staff("rsj-li", "spokesperson", "rsj")
    spokesperson.display_name = "李明"
    await spokesperson.save()
    data = {
        "text": "依据{basis}，已发放。如有疑问请致电{contact}。{signature}",
        "resolved": True,
        "basis": "《社会保险法》",
        "contact": "养老保险处 0991-1234567",
        "signature": "rsj-li",
    }
    inquiry = await service.act(number, "reply", handler, data)
    signature = f"{RSJ} 网络发言人 李明"
    assert inquiry.reply_signature == signature
    assert inquiry.reply_contact == "养老保险处 0991-1234567"
    assert (
        inquiry.reply_text
        == f"依据《社会保险法》，已发放。如有疑问请致电养老保险处 0991-1234567。{signature}"
    )
    event = await InquiryEvent.filter(inquiry_id=inquiry.id, action="reply").get()
    assert (event.data["contact"], event.data["signature"], event.data["signer"]) == (
        "养老保险处 0991-1234567",
        signature,
        "rsj-li",
    )


async def test_without_a_signature_the_unit_signs_as_before(
    service: InquiryService, acknowledged: tuple[str, Actor]
) -> None:
    number, handler = acknowledged
    inquiry = await service.act(number, "reply", handler, {"text": "已发放。", "resolved": True})
    assert (inquiry.reply_signature, inquiry.reply_contact) == (f"{RSJ} 网络发言人", "")


@pytest.mark.parametrize(
    ("username", "role", "unit", "active"),
    [
        ("rsj-h2", "handler", "rsj", True),  # not a spokesperson
        ("cgj-spk", "spokesperson", "cgj", True),  # another unit's
        ("rsj-old", "spokesperson", "rsj", False),  # no longer active
    ],
)
async def test_only_an_active_spokesperson_of_the_unit_may_sign(
    service: InquiryService,
    make_staff,
    acknowledged: tuple[str, Actor],
    username: str,
    role: str,
    unit: str,
    active: bool,
) -> None:
    number, handler = acknowledged
    await make_staff(username, role, unit)
    await Staff.filter(username=username).update(active=active)
    with pytest.raises(InvalidInput, match="不是市人力资源和社会保障局在岗的网络发言人"):
        await service.act(number, "reply", handler, {"text": "答复", "resolved": True, "signature": username})
    assert (await Inquiry.get(number=number)).state == "acknowledged"


async def test_a_placeholder_needs_its_field(
    service: InquiryService, acknowledged: tuple[str, Actor]
) -> None:
    number, handler = acknowledged
    with pytest.raises(InvalidInput, match="缺少字段 basis"):
        await service.act(number, "reply", handler, {"text": "依据{basis}办理。", "resolved": True})
    with pytest.raises(InvalidInput, match="contact 超过 100 字"):
        await service.act(number, "reply", handler, {"text": "答复", "resolved": True, "contact": "电" * 101})


async def test_a_filled_value_is_not_filled_again(
    service: InquiryService, acknowledged: tuple[str, Actor]
) -> None:
    number, handler = acknowledged
    data = {"text": "依据{basis}。", "resolved": False, "basis": "见{contact}"}
    inquiry = await service.act(number, "reply", handler, data)
    assert inquiry.reply_text == "依据见{contact}。"
