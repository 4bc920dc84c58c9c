"""Claiming queued work (outbox messages, media to fetch) so several processes can work one queue.

A row is claimed by compare-and-set on its attempt count, which also pushes its next attempt past a
lease: a process that dies mid-attempt leaves the row to be retried, not lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8


class Queued(Protocol):
    id: int
    attempts: int


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


async def claim(row: Queued, now: datetime) -> bool:
    """Take ``row`` for one attempt; False if another process took it first."""
    taken = (
        await type(row)
        .filter(id=row.id, state="pending", attempts=row.attempts)
        .update(  # type: ignore[attr-defined]
            attempts=row.attempts + 1, next_attempt_at=now + LEASE
        )
    )
    if taken:
        row.attempts += 1
    return bool(taken)


def gives_up(row: Queued, *, retryable: bool) -> bool:
    return not retryable or row.attempts >= MAX_ATTEMPTS
