"""The serving process's collector: the start-up heap frozen, the youngest generation collected less often."""

from __future__ import annotations

import gc

from aiohttp import web

from gateway.heap import YOUNG_THRESHOLD, settle_heap


async def test_start_up_freezes_what_it_made_and_collects_young_objects_less_often() -> None:
    before = gc.get_threshold()
    made_at_start_up = [[n] for n in range(10)]  # lists are tracked by the collector
    try:
        await settle_heap(web.Application())
        assert gc.get_freeze_count() >= len(made_at_start_up)
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert not oldest & {id(x) for x in made_at_start_up}  # frozen: in no generation any more
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
