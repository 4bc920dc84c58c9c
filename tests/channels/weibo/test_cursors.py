import asyncio

import pytest

from channels.weibo.cursors import DatabaseCursorStore
from core.models import ChannelCursor

pytestmark = pytest.mark.usefixtures("db")


async def test_a_cursor_survives_a_new_store_and_only_moves_forward() -> None:
    store = DatabaseCursorStore()
    assert await store.get("statuses") is None
    await store.set("statuses", "9007199254740993")
    await store.set("statuses", "9007199254748912")
    await store.set("statuses", "9007199254740993")  # a slower process with an older view
    assert await DatabaseCursorStore().get("statuses") == "9007199254748912"
    assert await DatabaseCursorStore().get("comments") is None
    assert await ChannelCursor.filter(name="weibo:statuses").count() == 1


async def test_processes_setting_a_cursor_at_once_leave_the_largest() -> None:
    # each store stands for a process; their reads and writes interleave at every await
    await DatabaseCursorStore().set("statuses", "9007199254740993")
    values = [str(9007199254740993 + step * 7919) for step in (5, 3, 9, 1, 7, 2)]
    await asyncio.gather(*(DatabaseCursorStore().set("statuses", value) for value in values))
    assert await DatabaseCursorStore().get("statuses") == max(values, key=int)
