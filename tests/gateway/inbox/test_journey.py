"""One inquiry from arrival to closed, entirely in browsers: the citizen, the desk, the unit's handler and a
handler of another unit each in their own Chromium context, against the real app served on a port.

Every locator is a role or a label, so the journey also checks that the controls it uses are labelled;
the handler acknowledges with the keyboard only. Screenshots of the main screens go to
``test-artifacts/screenshots/journey-*.png``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Browser, BrowserContext, Page, expect

from core.models import ReplyTemplate

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"  # tests/conftest.py's make_staff
TIMEOUT_MS = 10_000
"""For every action and page load: a failing step fails in seconds, not in Playwright's default 30 s."""
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}
RSJ = "市人力资源和社会保障局"
CONTENT = "我10月份办理了退休手续，养老金到现在还没有发放，请问什么时候可以领取？"
FORMAL = "您好！根据{basis}，您的养老金已核定，将于本月 15 日前发放。如有疑问请联系{contact}。{signature}"
BASIS = "《社会保险法》第十六条"
CONTACT = "养老保险处 0991-12333"


async def new_context(browser: Browser, **options: Any) -> BrowserContext:
    context = await browser.new_context(locale="zh-CN", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


async def signed_in(browser: Browser, base_url: str, username: str) -> Page:
    """A new desktop context signed in as ``username`` through the sign-in form, on its inbox home."""
    page = await (await new_context(browser, viewport=DESKTOP)).new_page()
    await page.goto(f"{base_url}/inbox/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{base_url}/inbox")
    # a reload would clear this: the live updates must change the page without one
    await page.evaluate("window.notReloaded = true")
    return page


async def not_reloaded(page: Page) -> bool:
    return await page.evaluate("window.notReloaded === true")


async def collect_events(page: Page) -> None:
    """Open a second event stream in ``page`` that records every inquiry event's case number."""
    await page.evaluate(
        """() => {
            window.streamed = [];
            new EventSource("/inbox/events").addEventListener(
                "inquiry", (event) => window.streamed.push(JSON.parse(event.data).number));
        }"""
    )


async def expect_unread(page: Page, count: int) -> None:
    """The bell in the header reads ``count`` unread notifications."""
    link = page.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile("^通知"))
    await expect(link).to_have_text(re.compile(rf"^通知\s*{count}\s*条未读$"))


async def tab_to(page: Page, what: str, predicate: str, presses: int = 40) -> None:
    """Press Tab until ``predicate`` (a script taking the focused element) holds."""
    for _ in range(presses):
        if await page.evaluate(f"({predicate})(document.activeElement)"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{what} cannot be reached with Tab")


async def test_an_inquiry_from_the_web_form_to_closed_in_the_browsers(
    browser: Browser, base_url: str, make_staff: Any, seed_inquiry: Any
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for username, role, unit, name in (
        ("desk", "desk", None, "受理员 李明"),
        ("rsj-handler", "handler", "rsj", "人社局承办人 张伟"),
        ("rsj-spokesperson", "spokesperson", "rsj", "刘洋"),
        ("cgj-handler", "handler", "cgj", "城管局承办人 赵磊"),
        ("admin", "admin", None, "系统管理员"),
    ):
        staff = await make_staff(username, role, unit)
        staff.display_name = name
        await staff.save()
    template = await ReplyTemplate.create(name="制度性答复", body=FORMAL, updated_at=datetime.now(UTC))

    # The desk waits on 待甄别, the two units' handlers on 待签收.
    desk = await signed_in(browser, base_url, "desk")
    await expect(
        desk.get_by_role("navigation", name="诉求队列").get_by_role("link", name=re.compile("^待甄别"))
    ).to_have_attribute("aria-current", "page")
    handler = await signed_in(browser, base_url, "rsj-handler")
    other = await signed_in(browser, base_url, "cgj-handler")
    await collect_events(other)

    # The citizen files the inquiry through the web form and keeps the receipt's link.
    citizen = await (await new_context(browser, viewport=PHONE, is_mobile=True)).new_page()
    await citizen.goto(f"{base_url}/submit")
    await citizen.get_by_role("textbox", name="诉求内容").fill(CONTENT)
    await citizen.get_by_label("咨询", exact=True).check()
    await citizen.get_by_label("诉求分类").select_option(label="社保")
    await citizen.get_by_label("手机号或电话").fill("13912345678")
    await citizen.get_by_role("button", name="提交诉求").click()
    await expect(citizen.get_by_role("heading", name="您的诉求已受理")).to_be_visible()
    receipt = urlsplit(citizen.url)
    number = receipt.path.rsplit("/", 1)[1]
    code = parse_qs(receipt.query)["code"][0]
    case_link = f"{base_url}/cases/{number}?code={code}"

    # It appears in the desk's queue without a reload.
    row = desk.get_by_role("row").filter(has_text=number)
    await expect(row).to_contain_text("养老金到现在还没有发放")
    await expect(row).to_contain_text("待派单")
    await expect(desk.locator("#live-announcer")).to_contain_text(f"新诉求 {number}")
    assert await not_reloaded(desk)
    await desk.screenshot(path=SCREENSHOTS / "journey-desk-queue-1366x768.png", full_page=True)

    # The desk opens it and dispatches it to 人社局.
    await row.get_by_role("link", name=number).click()
    await expect(desk.get_by_role("heading", level=1)).to_contain_text(number)
    await desk.get_by_label("承办单位").select_option(label=RSJ)
    await desk.get_by_role("button", name="派单").click()
    await expect(desk.get_by_role("status")).to_have_text("已完成「派单」。")
    await expect(desk.get_by_role("list").filter(has_text="派单：由")).to_contain_text(f"派单：由 {RSJ} 办理")

    # The handler sees it arrive in 待签收, live, with the bell at 1.
    row = handler.get_by_role("row").filter(has_text=number)
    await expect(row).to_contain_text("已派单")
    await expect_unread(handler, 1)
    assert await not_reloaded(handler)

    # The handler opens it and acknowledges with the keyboard only: skip link, then Tab to 签收, Enter.
    await row.get_by_role("link", name=number).click()
    await expect(handler.get_by_role("heading", level=1)).to_contain_text(number)
    await handler.screenshot(path=SCREENSHOTS / "journey-case-1366x768.png", full_page=True)
    await tab_to(handler, "the skip link", "(element) => element.textContent === '跳到可执行的操作'")
    await handler.keyboard.press("Enter")
    await tab_to(
        handler,
        "the 签收 button",
        "(element) => element.tagName === 'BUTTON' && element.textContent.trim() === '签收'"
        " && element.form.dataset.action === 'acknowledge'",
    )
    await handler.keyboard.press("Enter")
    await expect(handler.get_by_role("status")).to_have_text("已完成「签收」。")

    # The reply: the 制度性答复 template, its basis, contact and the spokesperson's signature.
    reply = handler.locator("#act-reply")
    if await reply.get_attribute("open") is None:
        await reply.get_by_text("提交答复", exact=True).first.click()
    await handler.get_by_label("答复模板").select_option(label="制度性答复（全市通用）")
    await handler.get_by_role("button", name="套用模板").click()
    await expect(handler.get_by_label("答复内容（将发送给来信人）")).to_have_value(FORMAL)
    await handler.get_by_label("政策依据").fill(BASIS)
    await handler.get_by_label("联系方式").fill(CONTACT)
    await handler.get_by_label("签发人（网络发言人）").select_option(label="刘洋")
    await handler.get_by_label("已解决", exact=True).check()
    await handler.get_by_role("group", name="问题是否已解决").scroll_into_view_if_needed()
    await handler.screenshot(path=SCREENSHOTS / "journey-reply-form-1366x768.png", full_page=True)
    phone = await new_context(
        browser,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        storage_state=await handler.context.storage_state(),
    )
    small = await phone.new_page()
    await small.goto(f"{base_url}/inbox/cases/{number}?template={template.id}")
    await expect(small.get_by_label("答复内容（将发送给来信人）")).to_have_value(FORMAL)
    assert await small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await small.screenshot(path=SCREENSHOTS / "journey-case-375x812.png", full_page=True)
    await phone.close()
    await handler.get_by_role("button", name="提交答复").click()
    await expect(handler.get_by_role("status")).to_have_text("已完成「提交答复」。")
    signature = f"{RSJ} 网络发言人 刘洋"
    answer = (
        f"您好！根据{BASIS}，您的养老金已核定，将于本月 15 日前发放。如有疑问请联系{CONTACT}。{signature}"
    )
    await expect(handler.get_by_role("main")).to_contain_text(answer)
    await handler.wait_for_timeout(600)  # more than a poll of the live stream
    await expect(handler.get_by_text("此诉求有新动态。")).to_have_count(0)  # not for one's own reply
    await handler.evaluate("window.notReloaded = true")
    waiting = await handler.context.new_page()
    await waiting.goto(f"{base_url}/inbox?queue=rating")
    await expect(waiting.get_by_role("row").filter(has_text=number)).to_contain_text("已答复")

    # The citizen reads the answer on the case page and rates it 满意.
    await citizen.goto(case_link)
    await expect(citizen.get_by_role("region", name="答复")).to_contain_text(answer)
    await citizen.get_by_label("满意", exact=True).check()
    await citizen.get_by_role("button", name="提交评价").click()
    await expect(citizen.get_by_role("status")).to_contain_text("感谢您的评价，诉求已办结。")

    # The handler's open case page says so live, the bell counts the rating, and 待评价 empties.
    await expect(handler.get_by_text("此诉求有新动态。")).to_be_visible()
    await expect_unread(handler, 2)
    assert await not_reloaded(handler)
    await expect(waiting.get_by_role("row").filter(has_text=number)).to_have_count(0)
    await handler.get_by_role("link", name="刷新查看").click()
    await expect(handler.get_by_role("heading", level=1)).to_contain_text("已办结")
    await expect(handler.get_by_role("main")).to_contain_text("来信人评价：满意")
    await handler.get_by_role("link", name=re.compile("^通知")).click()
    notices = handler.get_by_role("listitem").filter(has_text=number)
    await expect(notices.filter(has_text="评价")).to_contain_text("满意")
    await expect(notices.filter(has_text="派单")).to_have_count(1)
    await handler.screenshot(path=SCREENSHOTS / "journey-notifications-1366x768.png", full_page=True)

    # Another unit's handler cannot open the case (in a second tab), and their open queue heard nothing
    # of it: once an event of their own unit has come through the stream, every earlier one would have.
    guess = await other.context.new_page()
    response = await guess.goto(f"{base_url}/inbox/cases/{number}")
    assert response is not None
    assert response.status == 404
    await expect(guess.get_by_role("heading", name="没有找到诉求")).to_be_visible()
    assert await other.get_by_text(number).count() == 0
    await expect(other.locator("#live-announcer")).to_have_text("")
    own = await seed_inquiry("南湖路夜市占道经营，噪音持续到凌晨", category="chengguan", unit="cgj")
    await other.wait_for_function("n => window.streamed.includes(n)", arg=own)
    assert number not in await other.evaluate("window.streamed")
    await expect(other.get_by_role("row").filter(has_text=own)).to_contain_text("南湖路夜市")
    assert await not_reloaded(other)

    # The admin's staff page.
    admin = await signed_in(browser, base_url, "admin")
    await admin.get_by_role("link", name="系统管理").click()
    admin_tabs = admin.get_by_role("navigation", name="系统管理")
    await expect(admin_tabs.get_by_role("link", name="人员账号")).to_have_attribute("aria-current", "page")
    await expect(admin.get_by_role("row").filter(has_text="rsj-spokesperson")).to_contain_text("网络发言人")
    await admin.screenshot(path=SCREENSHOTS / "journey-admin-staff-1366x768.png", full_page=True)

    for page in (desk, handler, other, citizen, admin):
        await page.context.close()
