"""A WeChat citizen's message to the answer on their phone, through the running app and the fake API."""

from __future__ import annotations

from typing import Any

from channels.wechat.simulator import FakeWeChatApi
from gateway.scheduler import scheduler_key
from gateway.wechat_outbound import deliver_wechat


async def test_the_unit_answer_reaches_the_citizen_and_the_rating_closes_it(
    phone: Any, fake: FakeWeChatApi, make_staff: Any, login: Any
) -> None:
    client = phone.client
    assert "deliver-wechat" in {job.id for job in client.app[scheduler_key].get_jobs()}
    receipt = await phone.send("oCitizen", "小区路灯坏了一个月")
    number = receipt.split("编号：")[1].split("，")[0]
    await make_staff("desk1", "desk")
    await make_staff("mzj-h", "handler", "mzj")
    desk, handler = await login("desk1"), await login("mzj-h")
    api = "/api/v1/inquiries/" + number + "/actions/"
    assert (await client.post(api + "dispatch", json={}, headers=desk)).status == 200
    assert (await client.post(api + "acknowledge", headers=handler)).status == 200
    reply = {"text": "路灯已于今日修复。", "resolved": True}
    assert (await client.post(api + "reply", json=reply, headers=handler)).status == 200

    await deliver_wechat(client.app)

    [sent] = fake.sent["oCitizen"]  # inside the 48 hours since the citizen wrote: customer service
    assert sent["text"]["content"] == (
        f"【诉求答复】{number}：路灯已于今日修复。 ——市民政局 网络发言人。"
        "请评价：回复 1 满意，2 基本满意，3 不满意。"
    )
    assert await phone.send("oCitizen", "1") == "感谢您的评价，诉求已办结。"
    final = await (await client.get(f"/api/v1/inquiries/{number}", headers=desk)).json()
    assert (final["state"], final["rating"]["value"]) == ("closed", "satisfied")
