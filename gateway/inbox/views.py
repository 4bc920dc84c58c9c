"""The inbox's routes: sign-in and sign-out, the password page and the queue page.

Every route but the sign-in page needs a session; :meth:`Inbox.guard` sends a visitor without one to
``/inbox/login?next=…``. Every POST, the sign-in form's included, must carry the CSRF token of
:class:`~gateway.inbox.sessions.SessionCsrf`, or gets 403 with the reason.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler

from channels.web.csrf import FIELD as CSRF_FIELD
from channels.web.forms import form_text
from channels.web.pages import wait_text
from channels.web.ratelimit import Verdict
from core.actors import Actor
from core.errors import InvalidInput
from core.vocab import ROLE_LABELS
from gateway.auth import MIN_PASSWORD_LENGTH, authenticate, hash_password
from gateway.inbox import sessions
from gateway.inbox.pages import InboxPages
from gateway.inbox.queues import UnknownQueue, queue_page
from gateway.keys import actor_key, service_key, staff_key
from gateway.login_limits import login_limits
from gateway.settings import InboxSettings

LOGIN = "/inbox/login"
PUBLIC_PATHS = frozenset({LOGIN})

session_key = web.RequestKey("inbox_session", sessions.Session)


class Inbox:
    def __init__(self, settings: InboxSettings, secret_key: str, pages: InboxPages) -> None:
        # the sign-in limits (settings.login_throttle) are the application's, shared with the staff API's
        # sign-in: gateway.login_limits
        self.session_hours = settings.session_hours
        self.secret_key = secret_key
        self.pages = pages

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("", self.queue, name="inbox-queue"),
            web.get("/login", self.login_form, name="inbox-login"),
            web.post("/login", self.login),
            web.post("/logout", self.logout, name="inbox-logout"),
            web.get("/password", self.password_form, name="inbox-password"),
            web.post("/password", self.change_password),
        ]

    # -- sessions, CSRF and rendering -----------------------------------------------------------------

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        session = await sessions.current(request)
        if session is not None:
            request[session_key] = session
            request[staff_key] = session.staff
            request[actor_key] = Actor.of_staff(session.staff)
        elif request.path not in PUBLIC_PATHS:
            if request.method in ("GET", "HEAD"):
                return see_other(f"{LOGIN}?{urlencode({'next': request.path_qs})}")
            return see_other(LOGIN)
        if request.method == "POST":
            form = await request.post()
            if not self._csrf(request).is_valid(request, form_text(form, CSRF_FIELD)):
                return await self.page(
                    request,
                    "message.html",
                    {
                        "title": "页面已过期",
                        "text": "表单已过期或不是从本系统的页面提交的（CSRF 校验未通过），请刷新页面后重试。",
                    },
                    status=403,
                )
        return await handler(request)

    def _csrf(self, request: web.Request) -> sessions.SessionCsrf:
        # The sign-in form is never bound to a session: one signed in from another tab meanwhile must not
        # turn the form already open here into a refusal.
        session = None if request.path in PUBLIC_PATHS else request.get(session_key)
        return sessions.SessionCsrf(self.secret_key, session, secure=request.secure)

    async def page(
        self, request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
    ) -> web.Response:
        """A page with the CSRF token for its forms and, when signed in, who is signed in."""
        csrf = self._csrf(request)
        token, new = csrf.token_for(request)
        me = None
        # The sign-in page shows no one as signed in: its forms are not bound to a session.
        if request.path not in PUBLIC_PATHS and (session := request.get(session_key)) is not None:
            staff = session.staff  # its unit loaded with it (gateway.auth.staff_for_token)
            me = {
                "name": staff.display_name,
                "role": ROLE_LABELS[staff.role],
                "unit": staff.unit.name if staff.unit else None,
            }
        response = self.pages.render(template, {"csrf_token": token, "me": me, **context}, status=status)
        if new:
            csrf.set_cookie(response, token)
        return response

    def _throttled(self, request: web.Request, account: str) -> Verdict | None:
        """The refusal when the account or the client address has failed to sign in too often (here or
        through the staff API: the limits are shared, see :mod:`gateway.login_limits`)."""
        return login_limits(request).refusal(request, account)

    def _failed(self, request: web.Request, account: str) -> None:
        login_limits(request).failed(request, account)

    # -- sign-in and sign-out ------------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.Response:
        notice = "您已安全退出。" if "out" in request.query else ""
        return await self._login_page(request, sessions.safe_next(request.query.get("next")), notice=notice)

    async def _login_page(
        self,
        request: web.Request,
        target: str,
        *,
        username: str = "",
        error: str = "",
        notice: str = "",
        status: int = 200,
    ) -> web.Response:
        session = request.get(session_key)
        context = {
            "next": target,
            "username": username,
            "error": error,
            "notice": notice,
            "signed_in_as": session.staff.display_name if session else None,
        }
        return await self.page(request, "login.html", context, status=status)

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        target = sessions.safe_next(form_text(form, "next"))
        username, password = form_text(form, "username").strip(), form_text(form, "password")
        if (refusal := self._throttled(request, username)) is not None:
            response = await self._login_page(
                request,
                target,
                username=username,
                error=f"登录失败次数过多，请 {wait_text(refusal.retry_after)}后再试。",
                status=429,
            )
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        if not username or not password:
            return await self._login_page(
                request, target, username=username, error="请填写用户名和密码。", status=400
            )
        staff = await authenticate(username, password)
        if staff is None:
            self._failed(request, username)
            return await self._login_page(
                request, target, username=username, error="用户名或密码错误。", status=401
            )
        response = see_other(target)
        await sessions.start(request, response, staff, self.session_hours)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        response = see_other(f"{LOGIN}?out=1")
        await sessions.end(request, response)
        return response

    # -- password ------------------------------------------------------------------------------------

    async def password_form(self, request: web.Request) -> web.Response:
        return await self._password_page(request, {})

    async def _password_page(
        self, request: web.Request, errors: dict[str, str], *, done: bool = False, status: int = 200
    ) -> web.Response:
        return await self.page(request, "password.html", {"errors": errors, "done": done}, status=status)

    async def change_password(self, request: web.Request) -> web.Response:
        session = request[session_key]
        username = session.staff.username
        form = await request.post()
        current, new, repeat = (form_text(form, name) for name in ("current", "new", "repeat"))
        errors = {}
        if (refusal := self._throttled(request, username)) is not None:
            errors["current"] = f"密码错误次数过多，请 {wait_text(refusal.retry_after)}后再试。"
        elif await authenticate(username, current) is None:
            self._failed(request, username)
            errors["current"] = "当前密码不正确。"
        if len(new) < MIN_PASSWORD_LENGTH:
            errors["new"] = f"新密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。"
        elif new == current:
            errors["new"] = "新密码不能与当前密码相同。"
        elif new != repeat:
            errors["repeat"] = "两次输入的新密码不一致。"
        if errors:
            return await self._password_page(request, errors, status=429 if refusal is not None else 400)
        session.staff.password_hash = await asyncio.to_thread(hash_password, new)
        await session.staff.save(update_fields=["password_hash"])
        await sessions.revoke_others(session)
        return await self._password_page(request, {}, done=True)

    # -- queues --------------------------------------------------------------------------------------

    async def queue(self, request: web.Request) -> web.Response:
        try:
            context = await queue_page(request[actor_key], request.query, request.config_dict[service_key])
        except UnknownQueue:
            raise web.HTTPNotFound() from None
        except InvalidInput as refusal:
            context = {"title": "筛选条件有误", "text": f"{refusal}。请修改筛选条件后重试。"}
            return await self.page(request, "message.html", context, status=400)
        return await self.page(request, "queue.html", context)


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
