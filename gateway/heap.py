"""The serving process's garbage collector, set for many small short-lived requests.

Python's cyclic collector walks every tracked object of a generation when it runs; a full collection
walks the whole heap, tens of megabytes of modules, configuration, calendars and templates made at
start-up and never freed. Under load on the WeChat callback that walk showed as the slowest requests:
p99 about 100 ms, and 45-65 ms with the start-up heap frozen out of the collector's reach
(bench/README.md).
"""

from __future__ import annotations

import gc

from aiohttp import web

YOUNG_THRESHOLD = 10_000
"""Allocations between collections of the youngest generation (Python's default is 700): a request
allocates hundreds of objects, nearly all freed by reference counting before any collection."""


async def settle_heap(app: web.Application) -> None:
    """On start-up, once everything start-up makes is made (register it last): collect once, freeze
    what is left so later collections skip it, and collect the youngest generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
