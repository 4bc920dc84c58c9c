"""The state table of product.md §3."""

from __future__ import annotations

import pytest

from core.errors import IllegalAction
from core.states import TRANSITIONS, Action, State, allowed_actions, allows, next_state, to_mermaid

PRODUCT_TABLE = {
    (State.RECEIVED, Action.DISPATCH): State.DISPATCHED,
    (State.RECEIVED, Action.ANSWER_DIRECTLY): State.REPLIED,
    (State.RECEIVED, Action.REJECT): State.CLOSED,
    (State.RECEIVED, Action.REDIRECT): State.CLOSED,
    (State.RECEIVED, Action.MERGE): State.CLOSED,
    (State.RECEIVED, Action.SUPPLEMENT): State.RECEIVED,  # product.md §2: messages join a received case
    (State.DISPATCHED, Action.ACKNOWLEDGE): State.ACKNOWLEDGED,
    (State.DISPATCHED, Action.RETURN): State.RETURNED,
    (State.ACKNOWLEDGED, Action.RETURN): State.RETURNED,
    (State.RETURNED, Action.REDISPATCH): State.DISPATCHED,
    (State.RETURNED, Action.REFUSE_RETURN): State.DISPATCHED,
    (State.ACKNOWLEDGED, Action.REQUEST_EXTENSION): State.ACKNOWLEDGED,
    (State.ACKNOWLEDGED, Action.APPROVE_EXTENSION): State.ACKNOWLEDGED,
    (State.ACKNOWLEDGED, Action.REFUSE_EXTENSION): State.ACKNOWLEDGED,
    (State.ACKNOWLEDGED, Action.REPLY): State.REPLIED,
    (State.REPLIED, Action.RATE): State.CLOSED,
    (State.REPLIED, Action.CLOSE_UNRATED): State.CLOSED,
    (State.CLOSED, Action.REOPEN): State.ACKNOWLEDGED,
    (State.CLOSED, Action.PUBLISH): State.CLOSED,
}


def test_the_table_is_the_products_plus_notes_everywhere() -> None:
    notes = {(state, Action.NOTE): state for state in State}
    assert dict(TRANSITIONS) == PRODUCT_TABLE | notes


@pytest.mark.parametrize(("move", "target"), list(PRODUCT_TABLE.items()))
def test_next_state_follows_the_table(move: tuple[State, Action], target: State) -> None:
    assert next_state(*move) is target


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_every_move_outside_the_table_is_refused_with_a_reason(state: State, action: Action) -> None:
    if (state, action) in TRANSITIONS:
        return
    with pytest.raises(IllegalAction, match="诉求当前状态为"):
        next_state(state, action)


def test_refusal_names_the_state_and_what_is_possible() -> None:
    with pytest.raises(IllegalAction) as refusal:
        next_state(State.RECEIVED, Action.ACKNOWLEDGE)
    assert str(refusal.value) == (
        "诉求当前状态为「已受理」，不能执行「签收」（当前可执行：派单、直接答复、不予受理、转法定途径、并单、补充诉求）"
    )


def test_allowed_actions_and_the_diagram() -> None:
    assert allowed_actions(State.REPLIED) == [Action.RATE, Action.CLOSE_UNRATED, Action.NOTE]
    diagram = to_mermaid()
    assert "    dispatched --> acknowledged: acknowledge" in diagram.splitlines()
    assert "note" not in diagram


@pytest.mark.parametrize("state", list(State))
def test_allows_agrees_with_the_table(state: State) -> None:
    assert [a for a in Action if allows(state, a)] == [a for a in Action if a in allowed_actions(state)]
    assert allows(State.RECEIVED, Action.SUPPLEMENT)
    assert not allows(State.DISPATCHED, Action.SUPPLEMENT)
