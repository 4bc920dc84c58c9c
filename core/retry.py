"""Claiming queued work (outbox messages, media to fetch) so several processes can work one queue, and
recording a failed attempt: due again after a backoff, until it gives up.

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


async def failed(row: Queued, now: datetime, error: str, *, retryable: bool) -> bool:
    """Record that an attempt on ``row`` failed with ``error``: it is due again after the backoff, or,
    when it gives up, ``failed``. Returns whether it gave up."""
    update = type(row).filter(id=row.id).update  # type: ignore[attr-defined]
    if not retryable or row.attempts >= MAX_ATTEMPTS:
        await update(state="failed", last_error=error[:300])
        return True
    await update(next_attempt_at=now + backoff(row.attempts), last_error=error[:300])
    return False
