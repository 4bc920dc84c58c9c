"""Rating an answered inquiry from its case page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.models import Inquiry
from core.states import State

RATE_FORM = re.compile(r'<form method="post" action="/cases/([^/"]+)/rate"')


async def rate_form_tokens(client: Any, number: str, code: str) -> dict[str, str]:
    html = await (await client.get(f"/cases/{number}", params={"code": code})).text()
    token = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', html)
    assert token, html
    return {"csrf_token": token[1], "code": code}


async def test_replied_case_shows_the_rating_form(client: Any, submitted: Any, to_replied: Any) -> None:
    number, code = await submitted()
    inquiry = await to_replied(number)
    html = await (await client.get(f"/cases/{number}", params={"code": code})).text()
    assert RATE_FORM.search(html)[1] == number  # type: ignore[index]
    assert f'<input type="hidden" name="code" value="{code}">' in html
    for value, label in [
        ("satisfied", "满意"),
        ("basically_satisfied", "基本满意"),
        ("unsatisfied", "不满意"),
    ]:
        assert f'<input type="radio" id="rating-{value}" name="rating" value="{value}">' in html
        assert f'<label for="rating-{value}">{label}</label>' in html
    assert '<label for="comment">评价意见（选填）</label>' in html
    assert f'<div class="answer__text">{inquiry.reply_text}</div>' in html
    assert inquiry.reply_note not in html


async def test_no_rating_form_before_the_reply(client: Any, submitted: Any) -> None:
    number, code = await submitted()
    html = await (await client.get(f"/cases/{number}", params={"code": code})).text()
    assert RATE_FORM.search(html) is None


async def test_rating_closes_the_case_and_a_second_rating_is_409(
    client: Any, submitted: Any, to_replied: Any
) -> None:
    number, code = await submitted()
    await to_replied(number)
    form = {
        **await rate_form_tokens(client, number, code),
        "rating": "satisfied",
        "comment": "办得很快，谢谢",
    }
    response = await client.post(f"/cases/{number}/rate", data=form, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/cases/{number}?code={code}&rated=1"

    inquiry = await Inquiry.get(number=number)
    assert inquiry.state == State.CLOSED
    assert inquiry.rating == "satisfied"
    assert inquiry.rating_comment == "办得很快，谢谢"

    html = await (await client.get(response.headers["Location"])).text()
    assert "<p>感谢您的评价，诉求已办结。</p>" in html
    assert '<p class="state state--closed">已办结</p>' in html
    titles = re.findall(r'<p class="timeline__title">([^<]*)</p>', html)
    assert titles[-2:] == ["评价：满意", "办结"]
    assert "办得很快，谢谢" not in html
    assert RATE_FORM.search(html) is None

    again = await client.post(f"/cases/{number}/rate", data={**form, "rating": "unsatisfied"})
    assert again.status == 409
    assert "您已经评价过该诉求，每件诉求只能评价一次。" in await again.text()
    assert (await Inquiry.get(number=number)).rating == "satisfied"


async def test_unsatisfied_rating_is_acknowledged(client: Any, submitted: Any, to_replied: Any) -> None:
    number, code = await submitted()
    await to_replied(number)
    form = {**await rate_form_tokens(client, number, code), "rating": "unsatisfied"}
    response = await client.post(f"/cases/{number}/rate", data=form)
    assert response.status == 200
    assert "<p>已收到您的评价，我们将复核办理情况。</p>" in await response.text()
    assert (await Inquiry.get(number=number)).rating == "unsatisfied"


async def test_rating_before_the_reply_is_409(client: Any, submitted: Any, form_tokens: Any) -> None:
    number, code = await submitted()
    # no rating form on the page yet: take the visitor's token from the inquiry form
    form = {"csrf_token": (await form_tokens())["csrf_token"], "code": code, "rating": "satisfied"}
    response = await client.post(f"/cases/{number}/rate", data=form)
    assert response.status == 409
    assert "该诉求尚未答复，答复后才能评价。" in await response.text()
    assert (await Inquiry.get(number=number)).state == State.RECEIVED


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"rating": ""}, "rating", "请选择“满意”“基本满意”或“不满意”。"),
        ({"rating": "excellent"}, "rating", "请选择“满意”“基本满意”或“不满意”。"),
        (
            {"rating": "satisfied", "comment": "好" * 1001},
            "comment",
            "评价意见不能超过 1000 字（现为 1001 字）。",
        ),
    ],
)
async def test_invalid_rating_is_explained(
    client: Any, submitted: Any, to_replied: Any, fields: dict[str, str], field: str, message: str
) -> None:
    number, code = await submitted()
    await to_replied(number)
    form = {**await rate_form_tokens(client, number, code), **fields}
    response = await client.post(f"/cases/{number}/rate", data=form)
    assert response.status == 400
    html = await response.text()
    assert (
        f'<p class="field-error" id="{field}-error"><span class="visually-hidden">错误：</span>{message}</p>'
        in html
    )
    assert (await Inquiry.get(number=number)).state == State.REPLIED


async def test_rating_with_the_wrong_code_is_404(client: Any, submitted: Any, to_replied: Any) -> None:
    number, code = await submitted()
    await to_replied(number)
    form = {**await rate_form_tokens(client, number, code), "rating": "unsatisfied"}
    response = await client.post(f"/cases/{number}/rate", data={**form, "code": "ZZZZZZ"})
    assert response.status == 404
    assert (await Inquiry.get(number=number)).state == State.REPLIED


async def test_rating_without_csrf_token_is_403(client: Any, submitted: Any, to_replied: Any) -> None:
    number, code = await submitted()
    await to_replied(number)
    response = await client.post(f"/cases/{number}/rate", data={"code": code, "rating": "unsatisfied"})
    assert response.status == 403
    assert "页面已过期，请刷新后重新提交" in await response.text()
    assert (await Inquiry.get(number=number)).state == State.REPLIED


async def test_a_weibo_inquirys_page_is_shown_as_to_anyone_and_rated_on_weibo(
    client: Any, submitted: Any, to_replied: Any
) -> None:
    # its link travels in public comments: the answer is masked as there, and the rating is by reply
    number, code = await submitted()
    await to_replied(number)
    form = {**await rate_form_tokens(client, number, code), "rating": "satisfied"}
    await Inquiry.filter(number=number).update(channel="weibo", reply_text="已修复，请拨打13912345678联系")
    html = await (await client.get(f"/cases/{number}", params={"code": code})).text()
    assert '<div class="answer__text">已修复，请拨打***联系</div>' in html
    assert RATE_FORM.search(html) is None
    assert "请在微博上回复我们的答复评论" in html
    response = await client.post(f"/cases/{number}/rate", data=form, allow_redirects=False)
    assert response.status == 403
    assert (await Inquiry.get(number=number)).state == State.REPLIED
