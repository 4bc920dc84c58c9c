"""Errors the core raises; the gateway maps each to an HTTP status."""


class CoreError(Exception):
    """Base of the core's refusals. ``str(error)`` is a reason fit to show a person (Chinese)."""


class IllegalAction(CoreError):
    """The action is not allowed in the inquiry's current state (HTTP 409)."""


class ConcurrentUpdate(IllegalAction):
    """Someone else changed the inquiry between our read and our write (HTTP 409)."""


class Forbidden(CoreError):
    """The actor's role may not take this action (HTTP 403)."""


class NotFound(CoreError):
    """No such inquiry, or not one the actor may see (HTTP 404)."""


class InvalidInput(CoreError):
    """The action's data is missing or wrong (HTTP 400)."""
