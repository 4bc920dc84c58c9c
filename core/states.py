"""The inquiry's life as one table (product.md §3).

Every state change goes through :func:`next_state`; the service layer adds the guards that depend
on data (who may act, whether a rating was unsatisfied, ...) and writes the audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from core.errors import IllegalAction


class State(StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    RETURNED = "returned"
    ACKNOWLEDGED = "acknowledged"
    REPLIED = "replied"
    CLOSED = "closed"


class Action(StrEnum):
    DISPATCH = "dispatch"
    ANSWER_DIRECTLY = "answer-directly"
    REJECT = "reject"
    REDIRECT = "redirect"
    MERGE = "merge"
    ACKNOWLEDGE = "acknowledge"
    RETURN = "return"
    REDISPATCH = "redispatch"
    REFUSE_RETURN = "refuse-return"
    REQUEST_EXTENSION = "request-extension"
    APPROVE_EXTENSION = "approve-extension"
    REFUSE_EXTENSION = "refuse-extension"
    REPLY = "reply"
    RATE = "rate"
    CLOSE_UNRATED = "close-unrated"
    REOPEN = "reopen"
    PUBLISH = "publish"
    NOTE = "note"
    SUPPLEMENT = "supplement"


STATE_LABELS: Final[Mapping[State, str]] = MappingProxyType(
    {
        State.RECEIVED: "已受理",
        State.DISPATCHED: "已派单",
        State.RETURNED: "已退单",
        State.ACKNOWLEDGED: "办理中",
        State.REPLIED: "已答复",
        State.CLOSED: "已办结",
    }
)

ACTION_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "intake": "受理",
        Action.DISPATCH: "派单",
        Action.ANSWER_DIRECTLY: "直接答复",
        Action.REJECT: "不予受理",
        Action.REDIRECT: "转法定途径",
        Action.MERGE: "并单",
        Action.ACKNOWLEDGE: "签收",
        Action.RETURN: "退单",
        Action.REDISPATCH: "改派",
        Action.REFUSE_RETURN: "驳回退单",
        Action.REQUEST_EXTENSION: "申请延期",
        Action.APPROVE_EXTENSION: "批准延期",
        Action.REFUSE_EXTENSION: "驳回延期",
        Action.REPLY: "答复",
        Action.RATE: "评价",
        Action.CLOSE_UNRATED: "逾期未评价办结",
        Action.REOPEN: "重办",
        Action.PUBLISH: "公开",
        Action.NOTE: "内部备注",
        Action.SUPPLEMENT: "补充诉求",
    }
)

_S = State
_A = Action

_MOVES: dict[tuple[State, Action], State] = {
    (_S.RECEIVED, _A.DISPATCH): _S.DISPATCHED,
    (_S.RECEIVED, _A.ANSWER_DIRECTLY): _S.REPLIED,
    (_S.RECEIVED, _A.REJECT): _S.CLOSED,
    (_S.RECEIVED, _A.REDIRECT): _S.CLOSED,
    (_S.RECEIVED, _A.MERGE): _S.CLOSED,
    (_S.RECEIVED, _A.SUPPLEMENT): _S.RECEIVED,
    (_S.DISPATCHED, _A.ACKNOWLEDGE): _S.ACKNOWLEDGED,
    (_S.DISPATCHED, _A.RETURN): _S.RETURNED,
    (_S.ACKNOWLEDGED, _A.RETURN): _S.RETURNED,
    (_S.RETURNED, _A.REDISPATCH): _S.DISPATCHED,
    (_S.RETURNED, _A.REFUSE_RETURN): _S.DISPATCHED,
    (_S.ACKNOWLEDGED, _A.REQUEST_EXTENSION): _S.ACKNOWLEDGED,
    (_S.ACKNOWLEDGED, _A.APPROVE_EXTENSION): _S.ACKNOWLEDGED,
    (_S.ACKNOWLEDGED, _A.REFUSE_EXTENSION): _S.ACKNOWLEDGED,
    (_S.ACKNOWLEDGED, _A.REPLY): _S.REPLIED,
    (_S.REPLIED, _A.RATE): _S.CLOSED,
    (_S.REPLIED, _A.CLOSE_UNRATED): _S.CLOSED,
    (_S.CLOSED, _A.REOPEN): _S.ACKNOWLEDGED,
    (_S.CLOSED, _A.PUBLISH): _S.CLOSED,
}
_MOVES.update({(state, _A.NOTE): state for state in State})

TRANSITIONS: Final[Mapping[tuple[State, Action], State]] = MappingProxyType(_MOVES)


def next_state(current: State, action: Action) -> State:
    """The state ``action`` leads to from ``current``; :class:`IllegalAction` if it is not allowed."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        allowed = "、".join(ACTION_LABELS[a] for (s, a) in TRANSITIONS if s == current and a != _A.NOTE)
        raise IllegalAction(
            f"诉求当前状态为「{STATE_LABELS[current]}」，不能执行「{ACTION_LABELS[action]}」"
            f"（当前可执行：{allowed or '无'}）"
        ) from None


def allows(current: State, action: Action) -> bool:
    """The table allows ``action`` from ``current``."""
    return (current, action) in TRANSITIONS


def allowed_actions(current: State) -> list[Action]:
    """Actions the table allows from ``current``, in table order."""
    return [a for (s, a) in TRANSITIONS if s == current]


def to_mermaid() -> str:
    """The table as a Mermaid state diagram, for the README."""
    lines = ["stateDiagram-v2", "    [*] --> received: intake"]
    lines += [f"    {s} --> {t}: {a}" for (s, a), t in TRANSITIONS.items() if a != _A.NOTE]
    return "\n".join(lines)
