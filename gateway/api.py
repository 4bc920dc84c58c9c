"""The staff API under /api/v1 (product.md §9): JSON in and out, bearer tokens, unit isolation.

Answers: 200/201 with the inquiry; 400 bad body; 401 no or bad token; 403 the role may not do it;
404 no such inquiry or another unit's; 409 the current state does not allow the action, with the reason.
Signing in: 401 wrong name or password; 429 too many failures, with Retry-After (gateway.login_limits).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from channels.web.forms import whole_number
from channels.web.pages import wait_text
from core.actors import Actor
from core.errors import CoreError, Forbidden, IllegalAction, InvalidInput, NotFound
from core.group_commit import BatchFailed
from core.models import Attachment, Inquiry, InquiryEvent, InquiryMessage, Unit
from core.service import IntakeRequest
from core.vocab import KIND_LABELS, ROLE_LABELS, Channel, Kind
from gateway import serialize
from gateway.auth import authenticate, issue_token, staff_for_token
from gateway.health import channel_statuses
from gateway.inquiry_filters import parse_filters, storable_text
from gateway.keys import actor_key, service_key, settings_key, staff_key
from gateway.login_limits import login_limits
from gateway.observability import BUSY, BUSY_HEADERS
from gateway.openapi import openapi_document
from gateway.units import units_by_id

log = logging.getLogger(__name__)

PUBLIC_ROUTES = frozenset({"/api/v1/auth/login", "/api/v1/openapi.json"})
MAX_PER_PAGE = 100
COUNT_CAP = 10_000
REGISTER_CHANNELS = frozenset({Channel.DESK, Channel.WEB, Channel.WECHAT, Channel.WEIBO})

STATUS_OF: list[tuple[type[CoreError], int]] = [
    (IllegalAction, 409),  # ConcurrentUpdate too: it is an IllegalAction
    (Forbidden, 403),
    (NotFound, 404),
    (InvalidInput, 400),
]


def respond(body: Any, status: int = 200) -> web.Response:
    """JSON with Chinese left readable (no \\u escapes)."""
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def error(status: int, reason: str) -> web.Response:
    return respond({"error": reason}, status=status)


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except CoreError as refusal:
        status = next(code for kind, code in STATUS_OF if isinstance(refusal, kind))
        return error(status, str(refusal))
    except web.HTTPException as http_error:
        if http_error.status < 400:
            raise
        response = error(http_error.status, _http_reason(request, http_error))
        if "Allow" in http_error.headers:
            response.headers["Allow"] = http_error.headers["Allow"]
        return response
    except BatchFailed:
        response = error(503, BUSY)
        response.headers.update(BUSY_HEADERS)
        return response
    except Exception:
        # never an HTML 500 page: the staff API answers in JSON even when it fails
        log.exception("staff API error", extra={"path": request.path, "method": request.method})
        return error(500, "服务器内部错误，请稍后重试")


def _http_reason(request: web.Request, http_error: web.HTTPException) -> str:
    match http_error.status:
        case 404:
            return "没有这个接口"
        case 405:
            return f"该接口不支持 {request.method} 方法"
        case 413:
            return f"请求体过大（上限 {request.client_max_size // 1024} KiB）"
    return http_error.reason


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_ROUTES:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    staff = await staff_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if staff is None:
        response = error(401, "未登录或登录已过期")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    request[staff_key] = staff
    request[actor_key] = Actor.of_staff(staff)
    return await handler(request)


def create_api() -> web.Application:
    api = web.Application(middlewares=[errors_as_json, bearer_auth])
    api.router.add_post("/auth/login", login)
    api.router.add_get("/openapi.json", openapi)
    api.router.add_get("/me", me)
    api.router.add_get("/channels", channels)
    api.router.add_get("/units", units)
    api.router.add_get("/categories", categories)
    api.router.add_get("/inquiries", list_inquiries)
    api.router.add_post("/inquiries", register_inquiry)
    api.router.add_get("/inquiries/{number}", get_inquiry)
    api.router.add_post("/inquiries/{number}/actions/{action}", act)
    return api


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; :class:`InvalidInput` for anything else."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested deeper than the parser goes
        raise InvalidInput("请求体不是合法的 JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("请求体应为 JSON 对象")
    if not _storable(body):
        raise InvalidInput("请求体含有无法保存的字符（如 \\u0000）")
    return body


def _storable(value: Any) -> bool:
    """Whether every string in a parsed JSON value can be stored: no NUL (PostgreSQL refuses it in text)
    and no lone surrogate such as "\\ud800" (not encodable as UTF-8). Iterative: bodies nest deep."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not storable_text(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise InvalidInput("请提供 username 和 password")
    # the inbox's limits, shared: guesses through either door count together (gateway.login_limits)
    limits = login_limits(request)
    if (refusal := limits.refusal(request, username)) is not None:
        response = error(429, f"登录失败次数过多，请 {wait_text(refusal.retry_after)}后再试")
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    staff = await authenticate(username, password)
    if staff is None:
        limits.failed(request, username)
        return error(401, "用户名或密码错误")
    hours = request.config_dict[settings_key].api.token_hours
    token, expires_at = await issue_token(staff, hours)
    return respond({"token": token, "expires_at": serialize.beijing(expires_at)})


async def openapi(request: web.Request) -> web.Response:
    return respond(openapi_document())


async def me(request: web.Request) -> web.Response:
    staff = request[staff_key]  # its unit loaded with it (gateway.auth.staff_for_token)
    return respond(
        {
            "username": staff.username,
            "display_name": staff.display_name,
            "role": staff.role,
            "role_label": ROLE_LABELS[staff.role],
            "unit": {"code": staff.unit.code, "name": staff.unit.name} if staff.unit else None,
        }
    )


async def channels(request: web.Request) -> web.Response:
    """The polled channels' health, so the inbox can say when Weibo mentions are not coming in."""
    return respond({"channels": channel_statuses(request.config_dict)})


async def units(request: web.Request) -> web.Response:
    rows = await Unit.filter(active=True).order_by("id")
    return respond({"items": [{"code": u.code, "name": u.name} for u in rows]})


async def categories(request: web.Request) -> web.Response:
    rules = request.config_dict[service_key].rules
    items = [
        {"code": c.code, "name": c.name, "unit": c.unit_code, "urgent": c.urgent}
        for c in rules.categories.values()
    ]
    return respond({"items": items, "kinds": [{"code": k, "label": v} for k, v in KIND_LABELS.items()]})


def _positive_int(query: Any, name: str, default: int, high: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    number = whole_number(value)
    if number is None or not 1 <= number <= high:
        raise InvalidInput(f"参数 {name} 应为 1 到 {high} 之间的整数")
    return number


async def list_inquiries(request: web.Request) -> web.Response:
    service = request.config_dict[service_key]
    now = datetime.now(UTC)
    filters = await parse_filters(request.query, service.rules)
    page = _positive_int(request.query, "page", 1, 100_000)
    per_page = _positive_int(request.query, "per_page", 20, MAX_PER_PAGE)
    rows, counted = await inquiry_page(visible_to(request[actor_key]) & filters.where(now), page, per_page)
    items = [serialize.list_item(row, service.rules, now) for row in rows]
    return respond(
        {
            "items": items,
            "total": min(counted, COUNT_CAP),
            "total_exact": counted <= COUNT_CAP,
            "page": page,
            "per_page": per_page,
        }
    )


def visible_to(actor: Actor, through: str = "") -> Q:
    """The inquiries ``actor`` may see, as a filter (the staff API's list and the inbox's queues); with
    ``through`` (e.g. ``"inquiry__"``), on rows related to an inquiry, such as its audit events."""
    if not actor.is_unit_staff:
        return Q()
    # as Actor.can_see: a unit's staff see their unit's inquiries only, and one without a unit none
    # (Q(unit_id=None) would be "IS NULL", i.e. every inquiry not yet dispatched)
    return Q(**{f"{through}unit_id": actor.unit_id}) if actor.unit_id is not None else Q(id__in=[])


async def inquiry_page(filters: Q, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """One page of the inquiries matching ``filters``, newest first, as ``serialize.LIST_FIELDS`` rows,
    and how many match (counted up to ``COUNT_CAP + 1``, see :func:`count_up_to`)."""
    selection = Inquiry.filter(filters)
    counted = await count_up_to(selection, COUNT_CAP)
    rows = (
        await selection.order_by("-created_at", "-id")
        .offset((page - 1) * per_page)
        .limit(per_page)
        .values(*serialize.LIST_FIELDS)
    )
    return rows, counted


async def count_up_to(selection: QuerySet[Inquiry], cap: int) -> int:
    """How many rows ``selection`` has, counting no further than ``cap + 1``.

    An exact COUNT(*) reads every matching index entry: 17 ms for 100,000 inquiries on PostgreSQL
    and ten times that at a million, on every page of the inbox. Past ``cap`` a person reads
    "more than 10,000" anyway, so the count stops there and the answer says it is a lower bound.
    """
    probe = selection.limit(cap + 1).values_list("id", flat=True)
    sql = probe.sql()
    _, params = probe.query.get_parameterized_sql()
    rows = await Inquiry._meta.db.execute_query_dict(f"SELECT COUNT(*) AS n FROM ({sql}) AS capped", params)
    return int(rows[0]["n"])


async def register_inquiry(request: web.Request) -> web.Response:
    """The desk registers an inquiry received by phone, letter or visit. The answer carries, this once,
    the query code, for the desk to tell the caller (with the number it opens the citizen's case page);
    reading an inquiry never shows it, or a unit could rate its own answers."""
    body = await json_body(request)
    try:
        kind = Kind(body.get("kind"))
    except ValueError:
        raise InvalidInput("字段 kind 无效") from None
    try:
        channel = Channel(body.get("channel", Channel.DESK))
    except ValueError:
        raise InvalidInput("字段 channel 无效") from None
    if channel not in REGISTER_CHANNELS:
        raise InvalidInput("字段 channel 无效")
    strings = {}
    for name, limit in (
        ("content", 5000),
        ("category", 32),
        ("location", 200),
        ("contact_name", 64),
        ("contact_phone", 32),
    ):
        value = body.get(name, "")
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidInput(f"字段 {name} 应为不超过 {limit} 字的文本")
        strings[name] = value.strip()
    consent = body.get("consent_to_publish", False)
    if not isinstance(consent, bool):
        raise InvalidInput("字段 consent_to_publish 应为 true 或 false")
    service = request.config_dict[service_key]
    inquiry = await service.intake(
        IntakeRequest(channel=channel, kind=kind, consent_to_publish=consent, **strings),
        request[actor_key],
    )
    return await _detail_response(request, inquiry, status=201, query_code=inquiry.query_code)


def _number(request: web.Request) -> str:
    number = request.match_info["number"]
    if len(number) > 40 or not _storable(number):  # a case number is 16 characters
        raise NotFound(f"没有找到诉求 {number[:40]}")
    return number


async def get_inquiry(request: web.Request) -> web.Response:
    service = request.config_dict[service_key]
    inquiry = await service.get(_number(request), request[actor_key])
    return await _detail_response(request, inquiry)


async def act(request: web.Request) -> web.Response:
    """Take an action; with ``version`` (as the caller last read the inquiry) only on that version, so
    that a case someone else changed meanwhile is not acted on unseen (409)."""
    body = dict(await json_body(request))
    version = body.pop("version", None)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 0):
        raise InvalidInput("字段 version 应为读取诉求时的版本号（非负整数）")
    service = request.config_dict[service_key]
    number, action = _number(request), request.match_info["action"]
    inquiry = await service.act(number, action, request[actor_key], body, expected_version=version)
    return await _detail_response(request, inquiry)


async def _detail_response(
    request: web.Request, inquiry: Inquiry, status: int = 200, **extra: str
) -> web.Response:
    merged_into = None
    if inquiry.merged_into_id:  # type: ignore[attr-defined]
        merged_into = (await Inquiry.get(id=inquiry.merged_into_id)).number  # type: ignore[attr-defined]
    body = serialize.detail(
        inquiry,
        units=await units_by_id(),
        rules=request.config_dict[service_key].rules,
        actor=request[actor_key],
        now=datetime.now(UTC),
        messages=await InquiryMessage.filter(inquiry_id=inquiry.id).order_by("id"),
        events=await InquiryEvent.filter(inquiry_id=inquiry.id).order_by("id"),
        attachments=await Attachment.filter(inquiry_id=inquiry.id).order_by("id"),
        merged_into=merged_into,
    )
    return respond(body | extra, status=status)
