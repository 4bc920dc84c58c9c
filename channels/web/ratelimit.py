"""An in-memory sliding-window limiter: at most N events per minute and M per day for each key.

Each key (a client address) keeps the times of its accepted events within the last day, so both windows
slide exactly. A refused attempt is not recorded: a client that keeps trying after hitting the limit
gets in again as soon as its oldest event leaves the window, as ``Retry-After`` says. An accepted event
can be given back with :meth:`SlidingWindowLimiter.refund`, so a caller may count an attempt before an
``await`` (keeping check and count one step for the event loop) and refund it if it turns out harmless.

Keys come from :func:`address_key`: an IPv4 client is one address, an IPv6 client its /64 prefix.

Memory is bounded: a key never holds more than ``per_day`` times, idle keys are swept, and past
``max_keys`` the least recently used key is forgotten (that client starts afresh, which fails open
rather than locking out everyone).

The state lives in one process. Several gateway processes behind a load balancer each count on their
own, so the effective limit is multiplied by their number; a shared limiter (Redis) would fix that.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

MINUTE = 60.0
DAY = 86400.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    """Whole seconds until the next event would be allowed (0 when allowed)."""
    recorded_at: float | None = field(default=None, compare=False, repr=False)
    """When :meth:`SlidingWindowLimiter.hit` recorded the event (None if nothing was recorded), so that
    :meth:`SlidingWindowLimiter.refund` takes back exactly that event and not a later one."""


def address_key(address: str) -> str:
    """The limiter key for a client address: an IPv4 address as it is, an IPv6 address as its /64.

    A single IPv6 subscriber is usually given a whole /64 and can pick any address in it, so keying by
    the full address would let one client rotate addresses past every limit. An IPv4-mapped IPv6 address
    is keyed as the IPv4 address it carries. Anything unparsable (e.g. ``unknown``) is kept as given.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        # the scope id (fe80::1%eth0) names a local interface, not part of the client's prefix
        network = ipaddress.IPv6Network((int(ip) >> 64 << 64, 64))
        return str(network)
    return str(ip)


class SlidingWindowLimiter:
    def __init__(
        self,
        per_minute: int,
        per_day: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if per_minute < 1 or per_day < 1 or max_keys < 1:
            raise ValueError("limits must be at least 1")
        self.per_minute = per_minute
        self.per_day = per_day
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._next_sweep = clock() + MINUTE

    def check(self, key: str) -> Verdict:
        """Whether ``key`` may have one more event now; records nothing."""
        now = self._clock()
        times = self._events.get(key)
        if not times:
            return Verdict(True)
        self._expire(times, now)
        waits = []
        if len(times) >= self.per_day:
            waits.append(times[-self.per_day] + DAY - now)
        if len(times) >= self.per_minute and times[-self.per_minute] > now - MINUTE:
            waits.append(times[-self.per_minute] + MINUTE - now)
        if waits:
            return Verdict(False, max(1, math.ceil(max(waits))))
        return Verdict(True)

    def hit(self, key: str) -> Verdict:
        """Record one event for ``key`` if the limits allow it; the verdict says whether they did."""
        verdict = self.check(key)
        if verdict.allowed:
            return replace(verdict, recorded_at=self._record(key))
        return verdict

    def refund(self, key: str, verdict: Verdict) -> None:
        """Take back the event that ``verdict`` (from :meth:`hit` on ``key``) recorded.

        Nothing happens if it recorded nothing, or if the event is already gone (expired, or the key
        was forgotten), so a refund never lets a client in beyond its limits.
        """
        if verdict.recorded_at is None:
            return
        times = self._events.get(key)
        if times is None:
            return
        try:
            times.remove(verdict.recorded_at)
        except ValueError:
            pass

    def _record(self, key: str) -> float:
        now = self._clock()
        times = self._events.get(key)
        if times is None:
            times = self._events[key] = deque(maxlen=self.per_day)
        self._events.move_to_end(key)
        times.append(now)
        if now >= self._next_sweep:
            self._sweep(now)
        while len(self._events) > self._max_keys:
            self._events.popitem(last=False)
        return now

    @staticmethod
    def _expire(times: deque[float], now: float) -> None:
        while times and times[0] <= now - DAY:
            times.popleft()

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + MINUTE
        for key in [k for k, times in self._events.items() if not times or times[-1] <= now - DAY]:
            del self._events[key]

    def __len__(self) -> int:
        """How many keys are tracked (for tests and metrics)."""
        return len(self._events)
