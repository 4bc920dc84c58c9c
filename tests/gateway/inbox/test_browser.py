"""The inbox in a real browser: Debian's Chromium, headless, driven by Playwright against the real app.

No browser is ever downloaded: the ``browser`` fixture (conftest.py) uses the system's Chromium and
skips, with the reason, where there is none. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"  # tests/conftest.py's make_staff
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
async def zhang(base_url: str, make_staff: Any) -> Any:
    staff = await make_staff("rsj-handler", "handler", "rsj")
    staff.display_name = "人社局承办人 张伟"
    await staff.save()
    return staff


async def fill_sign_in(page: Page, username: str, password: str) -> None:
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()


async def test_sign_in_see_the_queue_and_sign_out(
    browser: Browser, base_url: str, zhang: Any, seed_inquiry: Any
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await seed_inquiry("失业保险金申领后一直显示审核中，已经过去一个月了，请帮忙查一下。", unit="rsj")
    number = await seed_inquiry(
        "我10月份办理了退休手续，养老金到现在还没有发放，请问什么时候可以领取？", unit="rsj"
    )
    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()

    await page.goto(f"{base_url}/inbox")
    await expect(page).to_have_url(re.compile(r"/inbox/login\?next=%2Finbox$"))
    await expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "login.png")

    await fill_sign_in(page, "rsj-handler", "not the password")
    await expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")

    await fill_sign_in(page, "rsj-handler", PASSWORD)
    await expect(page).to_have_url(f"{base_url}/inbox")
    row = page.get_by_role("row").filter(has_text=number)
    await expect(row).to_contain_text("养老金到现在还没有发放")
    await expect(row).to_contain_text("已派单")
    header = page.get_by_role("banner")
    for text in ("人社局承办人 张伟", "承办人", "市人力资源和社会保障局"):
        await expect(header).to_contain_text(text)
    await page.screenshot(path=SCREENSHOTS / "queue-1366x768.png", full_page=True)

    phone = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, storage_state=await context.storage_state()
    )
    small = await phone.new_page()
    await small.goto(f"{base_url}/inbox")
    await expect(small.get_by_text(number)).to_be_visible()
    assert await small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await small.screenshot(path=SCREENSHOTS / "queue-375x812.png", full_page=True)
    await phone.close()

    await page.get_by_role("button", name="退出登录").click()
    await expect(page.get_by_role("status")).to_have_text("您已安全退出。")
    await page.goto(f"{base_url}/inbox")
    await expect(page).to_have_url(re.compile(r"/inbox/login\?next="))
    await context.close()


async def test_a_handler_does_not_see_another_units_inquiry(
    browser: Browser, base_url: str, zhang: Any, seed_inquiry: Any
) -> None:
    own = await seed_inquiry("社保卡补办三个月没有消息", unit="rsj")
    other = await seed_inquiry("南湖路夜市占道经营，噪音持续到凌晨", category="chengguan", unit="cgj")
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(f"{base_url}/inbox/login")
    await fill_sign_in(page, "rsj-handler", PASSWORD)
    await expect(page.get_by_text(own)).to_be_visible()
    await expect(page.get_by_text(other)).to_have_count(0)
    await expect(page.get_by_text("南湖路夜市")).to_have_count(0)
    await context.close()


async def test_signing_in_and_out_by_keyboard(browser: Browser, base_url: str, zhang: Any) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(f"{base_url}/inbox/login")
    await tab_to(page, "username")
    await page.keyboard.type("rsj-handler")
    await page.keyboard.press("Tab")
    assert await focused(page) == "password"
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{base_url}/inbox")
    await tab_to(page, "退出登录")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{base_url}/inbox/login?out=1")
    await context.close()


async def focused(page: Page) -> str:
    """The focused element's id, else its text."""
    return await page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")


async def tab_to(page: Page, target: str, presses: int = 20) -> None:
    """Press Tab until ``target`` (an id or a button's text) has the focus (the sign-in page puts it in
    the username field at once)."""
    for _ in range(presses):
        if await focused(page) == target:
            return
        await page.keyboard.press("Tab")
    pytest.fail(f"{target} cannot be reached with Tab")


async def test_a_new_inquiry_appears_without_a_reload_for_its_unit_only(
    browser: Browser, base_url: str, zhang: Any, make_staff: Any, seed_inquiry: Any
) -> None:
    await make_staff("cgj-handler", "handler", "cgj")
    pages = []
    for username in ("rsj-handler", "cgj-handler"):
        context = await browser.new_context(viewport=DESKTOP)
        page = await context.new_page()
        await page.goto(f"{base_url}/inbox/login")
        await fill_sign_in(page, username, PASSWORD)
        await expect(page).to_have_url(f"{base_url}/inbox")
        await page.evaluate("window.notReloaded = true")
        pages.append(page)
    own, other = pages

    number = await seed_inquiry("医保报销进度查询不到，已经等了两个月", unit="rsj")
    committed = time.perf_counter()
    await own.wait_for_function("n => document.body.innerText.includes(n)", arg=number, polling="raf")
    assert time.perf_counter() - committed < 2
    row = own.get_by_role("row").filter(has_text=number)
    await expect(row).to_contain_text("医保报销进度查询不到")
    await expect(own.locator("#live-announcer")).to_contain_text(number)
    await expect(own.locator(".bell__number")).to_have_text("1")
    assert await own.evaluate("window.notReloaded") is True

    await own.wait_for_timeout(500)
    await expect(other.get_by_text(number)).to_have_count(0)
    await expect(other.locator("#live-announcer")).to_have_text("")
    for page in pages:
        await page.context.close()
