"""The OpenAPI 3.1 description of the staff API, served at /api/v1/openapi.json.

Written by hand because the API is small and its error semantics matter more than generated schemas;
``tests/gateway/test_openapi.py`` checks it against the real routes so the two cannot drift.
"""

from __future__ import annotations

from typing import Any

from core.service import ACTION_ROLES
from core.states import Action, State
from core.vocab import Channel, Kind, Rating

VERSION = {
    "version": {
        "type": "integer",
        "minimum": 0,
        "description": "the inquiry's version as last read: the action is refused (409) if it has moved",
    }
}
ACTION_BODIES: dict[str, dict[str, Any]] = {
    Action.DISPATCH: {"unit": {"type": "string", "description": "unit code; default: the category's unit"}},
    Action.ACKNOWLEDGE: {},
    Action.RETURN: {"reason": {"type": "string"}},
    Action.REDISPATCH: {"unit": {"type": "string"}},
    Action.REFUSE_RETURN: {"reason": {"type": "string"}},
    Action.REQUEST_EXTENSION: {"days": {"type": "integer", "minimum": 1}, "reason": {"type": "string"}},
    Action.APPROVE_EXTENSION: {},
    Action.REFUSE_EXTENSION: {"reason": {"type": "string"}},
    Action.REPLY: {
        "text": {
            "type": "string",
            "description": "public answer; {basis}, {contact} and {signature} are filled in from those",
        },
        "resolved": {"type": "boolean"},
        "basis": {"type": "string", "description": "policy basis (政策依据)"},
        "contact": {"type": "string", "maxLength": 100, "description": "whom the citizen may call about it"},
        "signature": {
            "type": "string",
            "description": "username of an active spokesperson of the unit who signs; "
            "default: signed by the unit's spokesperson office",
        },
        "note": {"type": "string", "description": "internal, never shown to the citizen"},
    },
    Action.ANSWER_DIRECTLY: {"text": {"type": "string"}},
    Action.REJECT: {"reason": {"type": "string"}},
    Action.REDIRECT: {"to": {"type": "string"}, "text": {"type": "string"}},
    Action.MERGE: {"into": {"type": "string", "description": "case number of the main inquiry"}},
    Action.REOPEN: {},
    Action.PUBLISH: {},
    Action.NOTE: {"text": {"type": "string"}},
}
"""Actions staff take through the API and the fields of their JSON bodies."""


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


BEIJING_DATE = {"type": "string", "format": "date", "description": "a date in Beijing time, inclusive"}
ERRORS = {
    "400": _error("bad body or parameter"),
    "401": _error("no login or an expired token"),
    "403": _error("the role may not do this"),
    "404": _error("no such inquiry, or another unit's"),
}
TOO_LARGE = {"413": _error("request body over the size limit (256 KiB)")}


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _number_param() -> dict[str, Any]:
    return {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def openapi_document() -> dict[str, Any]:
    enum = lambda e: {"type": "string", "enum": [m.value for m in e]}  # noqa: E731
    action_bodies = {
        "oneOf": [
            {"title": action, "type": "object", "properties": fields | VERSION}
            for action, fields in ACTION_BODIES.items()
        ]
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "问政通 Wenzheng staff API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                },
                "Inquiry": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "string", "example": "WZ20261127-00042"},
                        "kind": enum(Kind),
                        "category": {"type": "string"},
                        "channel": enum(Channel),
                        "state": enum(State),
                        "unit": {"type": ["object", "null"]},
                        "content": {"type": "string"},
                        "ack_due_at": {"type": ["string", "null"], "format": "date-time"},
                        "reply_due_at": {"type": ["string", "null"], "format": "date-time"},
                        "rating": {
                            "type": "object",
                            "properties": {
                                "value": {"type": ["string", "null"], "enum": [*enum(Rating)["enum"], None]}
                            },
                        },
                        "allowed_actions": {"type": "array", "items": {"type": "string"}},
                        "messages": {"type": "array", "items": {"type": "object"}},
                        "events": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "InquiryList": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"type": "object"}},
                        "total": {
                            "type": "integer",
                            "description": "exact up to 10,000, then 10,000 (see total_exact)",
                        },
                        "total_exact": {"type": "boolean"},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                    },
                },
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/auth/login": {
                "post": {
                    "summary": "Sign in; returns a bearer token",
                    "security": [],
                    "requestBody": _json_body(
                        {"username": {"type": "string"}, "password": {"type": "string"}},
                        ["username", "password"],
                    ),
                    "responses": {
                        "200": {"description": "signed in: {token, expires_at}"},
                        "400": ERRORS["400"],
                        "401": _error("wrong username or password"),
                        "429": _error("too many failed sign-ins (account or address); see Retry-After"),
                        **TOO_LARGE,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI"}},
                }
            },
            "/me": {
                "get": {
                    "summary": "The signed-in staff member",
                    "responses": {"200": {"description": "staff"}, "401": ERRORS["401"]},
                }
            },
            "/channels": {
                "get": {
                    "summary": "The polled channels' health: ok, or degraded with the platform's reason",
                    "responses": {"200": {"description": "channel states"}, "401": ERRORS["401"]},
                }
            },
            "/units": {
                "get": {
                    "summary": "Active units",
                    "responses": {"200": {"description": "units"}, "401": ERRORS["401"]},
                }
            },
            "/categories": {
                "get": {
                    "summary": "Categories and kinds",
                    "responses": {"200": {"description": "categories"}, "401": ERRORS["401"]},
                }
            },
            "/inquiries": {
                "get": {
                    "summary": "List inquiries (a unit's staff see their unit's only), newest first",
                    "parameters": [
                        _query("state", enum(State)),
                        _query("unit", {"type": "string"}),
                        _query("kind", enum(Kind)),
                        _query("category", {"type": "string"}),
                        _query("channel", enum(Channel)),
                        _query("overdue", {"type": "boolean"}),
                        _query("q", {"type": "string", "description": "case number or words of the content"}),
                        _query("received_from", BEIJING_DATE),
                        _query("received_to", BEIJING_DATE),
                        _query("page", {"type": "integer", "minimum": 1, "default": 1}),
                        _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
                    ],
                    "responses": {
                        "200": _json("InquiryList", "a page of inquiries"),
                        "400": ERRORS["400"],
                        "401": ERRORS["401"],
                    },
                },
                "post": {
                    "summary": "The desk registers an inquiry received by phone, letter or visit",
                    "requestBody": _json_body(
                        {
                            "content": {"type": "string"},
                            "kind": enum(Kind),
                            "category": {"type": "string"},
                            "channel": {"type": "string", "default": "desk"},
                            "location": {"type": "string"},
                            "contact_name": {"type": "string"},
                            "contact_phone": {"type": "string"},
                            "consent_to_publish": {"type": "boolean"},
                        },
                        ["content", "kind", "category"],
                    ),
                    "responses": {
                        "201": _json("Inquiry", "registered; with query_code, shown only here"),
                        "400": ERRORS["400"],
                        "401": ERRORS["401"],
                        "403": ERRORS["403"],
                        **TOO_LARGE,
                    },
                },
            },
            "/inquiries/{number}": {
                "get": {
                    "summary": "One inquiry with its messages, events and deadlines",
                    "parameters": [_number_param()],
                    "responses": {
                        "200": _json("Inquiry", "the inquiry"),
                        "401": ERRORS["401"],
                        "404": ERRORS["404"],
                    },
                }
            },
            "/inquiries/{number}/actions/{action}": {
                "post": {
                    "summary": "Take an action on an inquiry",
                    "description": "Who may take each action (by role):\n\n"
                    + "\n".join(
                        f"- `{action}`: {', '.join(sorted(roles))}" for action, roles in ACTION_ROLES.items()
                    ),
                    "parameters": [
                        _number_param(),
                        {
                            "name": "action",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": list(ACTION_BODIES)},
                        },
                    ],
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": action_bodies}},
                    },
                    "responses": {
                        "200": _json("Inquiry", "the inquiry after the action"),
                        **ERRORS,
                        "409": _error(
                            "the current state does not allow it (or someone else changed it first)"
                        ),
                        **TOO_LARGE,
                    },
                }
            },
        },
    }
