"""The citizen's pages: home, the inquiry form, the receipt and case page, tracking and rating.

The pages are those product.md §2 asks of the web channel; it names no paths, but the README's
"Citizen pages" documents them and every channel's messages link to the case page, so they must stay
stable: ``/``, ``/submit``, ``/cases/{number}``, ``/cases/{number}/rate``, ``/track`` and the stylesheet
under ``/static/web/``.

Every POST is rate-limited per client, then CSRF-checked, then validated; nothing is stored unless all
three pass. Every number/code lookup (the case page and the rating POST) also counts against a limit of
wrong pairs per client. A client is ``request.remote`` keyed by
:func:`~channels.web.ratelimit.address_key` (an IPv6 client by its /64). Behind a reverse proxy that is
the proxy's address, so the gateway must be configured to trust the proxy's ``X-Forwarded-For`` (e.g.
with aiohttp-remotes) or every citizen shares one limit. This module never reads that header itself,
since any client can send it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import replace
from typing import Any

from aiohttp import web

from channels.links import case_link, case_path
from channels.privacy import mask_personal
from channels.web.csrf import FIELD as CSRF_FIELD
from channels.web.csrf import CsrfTokens
from channels.web.forms import (
    MAX_NUMBER,
    BadForm,
    RatingForm,
    Submission,
    check_rating,
    check_submission,
    clean_text,
    normalise_case_number,
    normalise_code,
    read_form,
)
from channels.web.options import ChatIdentity, Identify, WebOptions
from channels.web.pages import Pages, wait_text
from channels.web.present import policy_span
from channels.web.ratelimit import SlidingWindowLimiter, Verdict, address_key
from channels.web.timeline import public_timeline
from core.actors import Actor
from core.errors import IllegalAction, InvalidInput, NotFound
from core.models import Inquiry, InquiryEvent
from core.rules import CategoryRule
from core.service import MAX_CONTENT, InquiryService
from core.states import STATE_LABELS, State
from core.vocab import CHANNEL_LABELS, KIND_LABELS, RATING_LABELS, Channel, Kind, Rating

log = logging.getLogger(__name__)

KIND_HINTS = {
    Kind.COMPLAINT: "对政府部门或公共服务中的问题表达不满，要求纠正。",
    Kind.SUGGESTION: "对城市建设、公共服务和政策措施提出意见建议。",
    Kind.CONSULTATION: "询问政策规定、办事流程等。",
    Kind.HELP: "生活中遇到困难，需要有关部门帮助解决。",
    Kind.REPORT: "反映违法违规行为。",
    Kind.CONDUCT: (
        "反映公职人员、窗口和公共服务人员的工作作风问题。此类诉求由纪委监委专门办理，"
        "严格保密，不会转给被反映的单位，也一律不公开。"
    ),
}
PUBLIC_STATE_LABELS = {**STATE_LABELS, State.RETURNED: "重新派单中"}
"""The state as the citizen reads it; a return is the desk's internal business."""

FAILED_LOOKUPS_PER_MINUTE = 30
FAILED_LOOKUPS_PER_DAY = 300
"""Wrong number/code pairs allowed per client (see :func:`address_key`), so query codes cannot be guessed
by brute force."""

RATE_ON_WEIBO = "此诉求来自微博：请在微博上回复我们的答复评论，发送 1 满意、2 基本满意或 3 不满意进行评价。"

NOT_FOUND_TEXT = "没有找到与该编号和查询码对应的诉求。请核对后重新输入（查询码不区分大小写）。"


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"


def _link_is_public(inquiry: Inquiry) -> bool:
    """A Weibo inquiry's receipt and answer are public comments carrying the link to its page, so its
    page is shown as to anyone: the answer with phone and ID numbers masked, as in the comment, and no
    rating form (the citizen rates by replying on Weibo, where the platform says who they are)."""
    return inquiry.channel == Channel.WEIBO


def client_key(request: web.Request) -> str:
    """The key the web channel's limiters count this request's client under."""
    return address_key(client_address(request))


class WebChannel:
    def __init__(
        self,
        service: InquiryService,
        options: WebOptions,
        *,
        pages: Pages,
        csrf: CsrfTokens,
        limiter: SlidingWindowLimiter,
        lookups: SlidingWindowLimiter,
        identify: Identify | None = None,
    ) -> None:
        self.service = service
        self.options = options
        self.pages = pages
        self.csrf = csrf
        self.limiter = limiter
        self.lookups = lookups
        self.identify = identify
        self.max_content = min(options.max_content_chars, MAX_CONTENT)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.home, name="web-home"),
            web.get("/submit", self.submit_form, name="web-submit"),
            web.post("/submit", self.submit),
            web.get("/track", self.track, name="web-track"),
            web.get("/cases/{number}", self.case, name="web-case"),
            web.post("/cases/{number}/rate", self.rate, name="web-rate"),
        ]

    # -- pages ---------------------------------------------------------------------------------------

    async def home(self, request: web.Request) -> web.Response:
        return self.pages.render("home.html", {"categories": self._categories()})

    async def track(self, request: web.Request) -> web.Response:
        """The tracking form; submitted (a GET with number and code), it sends the citizen to the case."""
        query = request.query
        if "number" not in query and "code" not in query:
            return self.pages.render("track.html", {"values": {}, "errors": {}})
        values = {name: clean_text(query.get(name, ""))[:MAX_NUMBER] for name in ("number", "code")}
        errors = {}
        if not values["number"]:
            errors["number"] = "请填写诉求编号。"
        if not values["code"]:
            errors["code"] = "请填写查询码。"
        if errors:
            return self.pages.render("track.html", {"values": values, "errors": errors}, status=400)
        number = normalise_case_number(values["number"]) or values["number"]
        code = normalise_code(values["code"]) or values["code"]
        return _see_other(case_path(number, code))

    async def submit_form(self, request: web.Request) -> web.Response:
        return self._form(request, Submission(values={}), status=200)

    async def submit(self, request: web.Request) -> web.StreamResponse:
        client = client_key(request)
        if not (verdict := self.limiter.check(client)).allowed:
            return self._too_many(verdict)
        form = await self._read(request)
        if form is None:
            return self._bad_form("/submit")
        if not self.csrf.is_valid(request, form.get(CSRF_FIELD)):
            return self._expired()
        submission = check_submission(form, self.service.rules.offered(), self.max_content)
        if submission.errors:
            return self._form(request, submission, status=400)
        if not (verdict := self.limiter.hit(client)).allowed:
            return self._too_many(verdict)
        assert submission.request is not None
        intake = submission.request
        if (who := self._identity(request)) is not None:
            intake = replace(intake, channel=who.channel, identity=who.external_id)
        try:
            # Idempotent on the form's id: a double-clicked submit gets the first inquiry back.
            inquiry = await self.service.intake(intake, Actor.citizen())
        except InvalidInput as error:
            submission.errors["form"] = str(error)
            return self._form(request, submission, status=400)
        return _see_other(case_path(inquiry.number, inquiry.query_code, new="1"))

    async def case(self, request: web.Request) -> web.Response:
        client = client_key(request)
        if not (attempt := self._lookup_attempt(client)).allowed:
            return self._too_many(attempt)
        inquiry = await self._find(request.match_info["number"], request.query.get("code", ""))
        if inquiry is None:
            return self._not_found()
        self.lookups.refund(client, attempt)
        return await self._case_page(request, inquiry, RatingForm(values={"rating": "", "comment": ""}))

    async def rate(self, request: web.Request) -> web.StreamResponse:
        client = client_key(request)
        if not (verdict := self.limiter.check(client)).allowed:
            return self._too_many(verdict)
        form = await self._read(request)
        if form is None:
            return self._bad_form("/track")
        if not self.csrf.is_valid(request, form.get(CSRF_FIELD)):
            return self._expired()
        # No await from here to the lookup: the two limits are taken together or not at all.
        if not (attempt := self._lookup_attempt(client)).allowed:
            return self._too_many(attempt)
        if not (verdict := self.limiter.hit(client)).allowed:
            self.lookups.refund(client, attempt)
            return self._too_many(verdict)
        inquiry = await self._find(request.match_info["number"], form.get("code", ""))
        if inquiry is None:
            return self._not_found()
        self.lookups.refund(client, attempt)
        back = ((case_path(inquiry.number, inquiry.query_code), "返回诉求页面"),)
        if _link_is_public(inquiry):
            return self.pages.message(403, "请在微博评价", RATE_ON_WEIBO, links=back)
        if inquiry.state != State.REPLIED:
            return self.pages.message(409, "无法评价", _why_not_rateable(inquiry), links=back)
        rating = check_rating(form)
        if rating.errors:
            return await self._case_page(request, inquiry, rating, status=400)
        try:
            await self.service.act(inquiry.number, "rate", Actor.citizen(), rating.data)
        except IllegalAction:
            return self.pages.message(
                409, "无法评价", "该诉求的状态刚刚发生了变化，请返回诉求页面查看。", links=back
            )
        except InvalidInput as error:
            rating.errors["form"] = str(error)
            return await self._case_page(request, inquiry, rating, status=400)
        return _see_other(case_path(inquiry.number, inquiry.query_code, rated="1"))

    # -- helpers -------------------------------------------------------------------------------------

    async def _read(self, request: web.Request) -> dict[str, str] | None:
        try:
            return await read_form(request)
        except BadForm as error:
            log.info("unreadable form", extra={"path": request.path, "reason": str(error)})
            return None

    def _lookup_attempt(self, client: str) -> Verdict:
        """Count a number/code lookup against the failed-lookup limit before it is made.

        Checking first and counting only after the lookup failed would leave the database ``await`` in
        between: a burst of parallel guesses would all pass the check before any was counted. So the
        attempt is counted here, in the same step as the check (the limiter is not shared across
        threads, and nothing yields to the event loop in between), and a lookup that finds the case
        refunds it. At any moment, wrong pairs plus lookups in flight stay within the limit.
        """
        return self.lookups.hit(client)

    async def _find(self, number_text: str, code_text: str) -> Inquiry | None:
        """The inquiry when the number and query code match; None otherwise, whichever was wrong."""
        number, code = normalise_case_number(number_text), normalise_code(code_text)
        if number is None or code is None:
            return None
        try:
            inquiry = await self.service.get(number, Actor.citizen())
        except NotFound:
            return None
        if not hmac.compare_digest(code.encode(), inquiry.query_code.encode()):
            return None
        return inquiry

    def _categories(self) -> list[tuple[str, str]]:
        return [(code, rule.name) for code, rule in self.service.rules.offered().items()]

    def _with_token(
        self, request: web.Request, template: str, context: dict[str, Any], status: int
    ) -> web.Response:
        token, fresh = self.csrf.token_for(request)
        response = self.pages.render(template, {**context, "csrf_token": token}, status=status)
        if fresh:
            self.csrf.set_cookie(response, token)
        return response

    def _identity(self, request: web.Request) -> ChatIdentity | None:
        return self.identify(request) if self.identify is not None else None

    def _form(self, request: web.Request, submission: Submission, *, status: int) -> web.Response:
        chat = self._identity(request)
        context = {
            "values": submission.values,
            "errors": submission.errors,
            "kinds": [(kind.value, KIND_LABELS[kind], KIND_HINTS[kind]) for kind in Kind],
            "categories": self._categories(),
            "max_content": self.max_content,
            "form_id": submission.form_id or secrets.token_urlsafe(16),
            "chat": chat,
            "chat_label": CHANNEL_LABELS[chat.channel] if chat else "",
        }
        return self._with_token(request, "submit.html", context, status)

    async def _case_page(
        self, request: web.Request, inquiry: Inquiry, rating: RatingForm, *, status: int = 200
    ) -> web.Response:
        rules = self.service.rules
        category = rules.categories.get(inquiry.category)
        # The spans the core applies: a conduct complaint runs on the conduct rule whatever its category.
        try:
            clock: CategoryRule | None = rules.deadlines_for(inquiry.kind, inquiry.category)
        except KeyError:  # a category no longer in the config; the page still shows the stored dates
            clock = None
        events = await InquiryEvent.filter(inquiry_id=inquiry.id).order_by("id")
        state = State(inquiry.state)
        public = _link_is_public(inquiry)
        context = {
            "inquiry": inquiry,
            "state_label": PUBLIC_STATE_LABELS[state],
            "kind_label": KIND_LABELS[Kind(inquiry.kind)],
            "category_name": category.name if category else inquiry.category,
            "ack_span": policy_span(clock.ack) if clock else "",
            "reply_span": policy_span(clock.reply) if clock else "",
            "timeline": public_timeline(events, rules.desk_signature),
            "deadlines": _deadlines(inquiry),
            "link": case_link(self.options.public_base_url, inquiry),
            "new": request.query.get("new") == "1",
            "rated": request.query.get("rated") == "1" and inquiry.rating is not None,
            "rating_label": RATING_LABELS[Rating(inquiry.rating)] if inquiry.rating else "",
            "answer_text": mask_personal(inquiry.reply_text) if public else inquiry.reply_text,
            "can_rate": state == State.REPLIED and not public,
            "rate_on_weibo": RATE_ON_WEIBO if state == State.REPLIED and public else "",
            "ratings": [(rating_.value, RATING_LABELS[rating_]) for rating_ in Rating],
            "rating_values": rating.values,
            "errors": rating.errors,
        }
        return self._with_token(request, "case.html", context, status)

    def _not_found(self) -> web.Response:
        return self.pages.message(
            404, "未找到诉求", NOT_FOUND_TEXT, links=(("/track", "重新查询"), ("/", "返回首页"))
        )

    def _expired(self) -> web.Response:
        return self.pages.message(
            403,
            "页面已过期，请刷新后重新提交",
            "为保障安全，表单须在打开页面后一天内提交，并且浏览器须允许本网站使用 Cookie。"
            "您填写的内容尚未提交：请返回上一页，刷新页面后重新提交。",
            links=(("/submit", "重新填写诉求"), ("/track", "查询诉求"), ("/", "返回首页")),
        )

    def _bad_form(self, back: str) -> web.Response:
        return self.pages.message(
            400,
            "无法识别提交的内容",
            "提交的内容无法识别，没有保存任何信息。请返回页面重新填写并提交。",
            links=((back, "返回"), ("/", "返回首页")),
        )

    def _too_many(self, verdict: Verdict) -> web.Response:
        response = self.pages.message(
            429,
            "操作过于频繁",
            "为防止恶意提交，同一网络在一段时间内的提交次数有限。"
            f"请约 {wait_text(verdict.retry_after)}后再试。"
            "如有紧急情况，请拨打 12345 政务服务便民热线。",
        )
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response


def _see_other(location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location})
    response.headers["Cache-Control"] = "no-store"
    return response


def _why_not_rateable(inquiry: Inquiry) -> str:
    if inquiry.state == State.CLOSED and inquiry.rating is not None:
        return "您已经评价过该诉求，每件诉求只能评价一次。感谢您的参与！"
    if inquiry.state == State.CLOSED:
        return "该诉求已办结，不能再评价。"
    return "该诉求尚未答复，答复后才能评价。"


def _deadlines(inquiry: Inquiry) -> list[tuple[str, Any]]:
    """(label, UTC time) of the moments that matter in the inquiry's current state."""
    rows: list[tuple[str, Any]] = [("提交时间", inquiry.created_at)]
    state = inquiry.state
    if state in (State.RECEIVED, State.RETURNED) and inquiry.promised_reply_at:
        rows.append(("预计答复", inquiry.promised_reply_at))
    if state == State.DISPATCHED and inquiry.ack_due_at:
        rows.append(("签收期限", inquiry.ack_due_at))
    if state == State.ACKNOWLEDGED and inquiry.reply_due_at:
        rows.append(("答复期限", inquiry.reply_due_at))
    if state in (State.REPLIED, State.CLOSED) and inquiry.replied_at:
        rows.append(("答复时间", inquiry.replied_at))
    if state == State.REPLIED and inquiry.rating_due_at:
        rows.append(("评价截止", inquiry.rating_due_at))
    if state == State.CLOSED and inquiry.closed_at:
        rows.append(("办结时间", inquiry.closed_at))
    return rows
