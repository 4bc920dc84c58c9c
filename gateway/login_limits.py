"""The limits on failed sign-ins, shared by the two doors staff sign in through: the inbox's sign-in form
(and its password change) and the staff API's ``POST /api/v1/auth/login``.

Failures are counted per account (the username) and per client address (``inbox.login_throttle`` in the
settings); over either limit a sign-in is refused with ``Retry-After``, even with the right password.
Both doors count into the same limiters, so spreading guesses over the two does not double them.

Each application has one :class:`LoginLimits` (:func:`setup_login_limits`, from ``create_app``); the
inbox and the API, its sub-applications, find it through the request. A client address is keyed as the
citizen pages key it (:func:`channels.web.routes.client_key`: an IPv6 client by its /64).
"""

from __future__ import annotations

from aiohttp import web

from channels.web.ratelimit import SlidingWindowLimiter, Verdict
from channels.web.routes import client_key
from gateway.settings import LoginThrottle

MAX_ACCOUNT_KEY = 64
"""As ``Staff.username``: a longer name is no account, and the limiter's keys stay small."""


class LoginLimits:
    def __init__(self, throttle: LoginThrottle) -> None:
        self.accounts = SlidingWindowLimiter(throttle.account_per_minute, throttle.account_per_day)
        self.addresses = SlidingWindowLimiter(throttle.address_per_minute, throttle.address_per_day)

    def refusal(self, request: web.Request, account: str) -> Verdict | None:
        """The refusal (the longest wait) when the account or the client address has failed to sign in
        too often; ``None`` when a sign-in may be tried."""
        verdicts = [
            self.accounts.check(account[:MAX_ACCOUNT_KEY]),
            self.addresses.check(client_key(request)),
        ]
        refused = [v for v in verdicts if not v.allowed]
        return max(refused, key=lambda v: v.retry_after) if refused else None

    def failed(self, request: web.Request, account: str) -> None:
        """Count a failed sign-in against the account and the client address."""
        self.accounts.hit(account[:MAX_ACCOUNT_KEY])
        self.addresses.hit(client_key(request))


_login_limits_key = web.AppKey("login_limits", LoginLimits)


def setup_login_limits(app: web.Application, throttle: LoginThrottle) -> None:
    app[_login_limits_key] = LoginLimits(throttle)


def login_limits(request: web.Request) -> LoginLimits:
    """The sign-in limits of the application serving ``request`` (the same for every sub-application)."""
    return request.config_dict[_login_limits_key]
