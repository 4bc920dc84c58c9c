"""Stable codes shared by the API, the config and the database (product.md §9), with Chinese labels."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Kind(StrEnum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    CONSULTATION = "consultation"
    HELP = "help"
    REPORT = "report"
    CONDUCT = "conduct"


class Channel(StrEnum):
    WECHAT = "wechat"
    WEIBO = "weibo"
    WEB = "web"
    DESK = "desk"
    OPEN311 = "open311"


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class Role(StrEnum):
    DESK = "desk"
    HANDLER = "handler"
    SPOKESPERSON = "spokesperson"
    LEADER = "leader"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class CloseReason(StrEnum):
    RATED = "rated"
    UNRATED = "unrated"
    REJECTED = "rejected"
    REDIRECTED = "redirected"
    MERGED = "merged"


UNIT_ROLES: Final = frozenset({Role.HANDLER, Role.SPOKESPERSON, Role.LEADER})
"""Roles that belong to one unit and see only that unit's inquiries."""

KIND_LABELS: Final[Mapping[Kind, str]] = MappingProxyType(
    {
        Kind.COMPLAINT: "投诉",
        Kind.SUGGESTION: "建议",
        Kind.CONSULTATION: "咨询",
        Kind.HELP: "求助",
        Kind.REPORT: "举报",
        Kind.CONDUCT: "政风行风",
    }
)
CHANNEL_LABELS: Final[Mapping[Channel, str]] = MappingProxyType(
    {
        Channel.WECHAT: "微信",
        Channel.WEIBO: "微博",
        Channel.WEB: "网站",
        Channel.DESK: "窗口登记",
        Channel.OPEN311: "Open311",
    }
)
RATING_LABELS: Final[Mapping[Rating, str]] = MappingProxyType(
    {
        Rating.SATISFIED: "满意",
        Rating.BASICALLY_SATISFIED: "基本满意",
        Rating.UNSATISFIED: "不满意",
    }
)
ROLE_LABELS: Final[Mapping[Role, str]] = MappingProxyType(
    {
        Role.DESK: "受理派单",
        Role.HANDLER: "承办人",
        Role.SPOKESPERSON: "网络发言人",
        Role.LEADER: "单位领导",
        Role.SUPERVISOR: "督办",
        Role.ADMIN: "管理员",
    }
)
CLOSE_REASON_LABELS: Final[Mapping[CloseReason, str]] = MappingProxyType(
    {
        CloseReason.RATED: "已评价",
        CloseReason.UNRATED: "逾期未评价",
        CloseReason.REJECTED: "不予受理",
        CloseReason.REDIRECTED: "转法定途径",
        CloseReason.MERGED: "已并单",
    }
)
