"""The mentions poller's cursors in the database (core.models.ChannelCursor), one row per stream."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from core.models import ChannelCursor


def _now() -> datetime:
    return datetime.now(UTC)


class DatabaseCursorStore:
    """Cursors named ``<prefix><stream>``. A cursor only moves forward: should two processes poll (each
    harmless, since intake is deduplicated), the slower one never takes the cursor back."""

    def __init__(self, prefix: str = "weibo:", clock: Callable[[], datetime] = _now) -> None:
        self._prefix = prefix
        self._clock = clock

    async def get(self, stream: str) -> str | None:
        row = await ChannelCursor.get_or_none(name=self._prefix + stream)
        return row.value if row is not None else None

    async def set(self, stream: str, value: str) -> None:
        name = self._prefix + stream
        while True:
            current = await self.get(stream)
            if current is not None and int(current) >= int(value):
                return
            if current is None:
                try:
                    await ChannelCursor.create(name=name, value=value, updated_at=self._clock())
                    return
                except IntegrityError:
                    continue  # another process created it meanwhile: compare with theirs
            # compare-and-set over the value just read: one another process wrote since is looked at again
            moved = ChannelCursor.filter(name=name, value=current)
            if await moved.update(value=value, updated_at=self._clock()):
                return
