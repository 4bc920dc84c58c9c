"""/api/v1/openapi.json describes exactly the routes the staff API has (product.md §9)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from core.service import ACTION_ROLES
from core.states import State
from core.vocab import Channel, Kind, Rating
from gateway.api import PUBLIC_ROUTES

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


async def document(client: Any) -> dict[str, Any]:
    response = await client.get(f"{PREFIX}/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    return await response.json()


def api_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path relative to /api/v1) of every route of the API sub-app, HEAD aside."""
    subapps = [
        resource
        for resource in app.router.resources()
        if isinstance(resource, web.PrefixedSubAppResource) and resource.canonical == PREFIX
    ]
    assert len(subapps) == 1
    routes = set()
    for route in subapps[0]._app.router.routes():
        if route.method == "HEAD":
            continue
        path = route.resource.canonical if route.resource else ""
        assert path.startswith(PREFIX + "/"), path
        routes.add((route.method.lower(), path.removeprefix(PREFIX)))
    return routes


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item if method in METHODS}


async def test_served_without_login_as_openapi_3_1(client: Any) -> None:
    doc = await document(client)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    assert doc["servers"] == [{"url": PREFIX}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearer": []}]
    assert doc["paths"]


async def test_every_route_is_documented_and_every_documented_route_exists(client: Any) -> None:
    doc = await document(client)
    routes = api_routes(client.app)
    assert ("post", "/inquiries/{number}/actions/{action}") in routes
    assert documented(doc) == routes


async def test_public_operations_are_exactly_the_routes_without_login(client: Any) -> None:
    doc = await document(client)
    public = {
        PREFIX + path
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS and operation.get("security") == []
    }
    assert public == set(PUBLIC_ROUTES)


async def test_the_action_enum_is_the_actions_staff_may_take(client: Any) -> None:
    doc = await document(client)
    operation = doc["paths"]["/inquiries/{number}/actions/{action}"]["post"]
    [action] = [p for p in operation["parameters"] if p["name"] == "action"]
    assert action["in"] == "path"
    assert action["required"] is True
    assert action["schema"]["type"] == "string"
    assert sorted(action["schema"]["enum"]) == sorted(a.value for a in ACTION_ROLES)
    assert len(action["schema"]["enum"]) == len(ACTION_ROLES)
    bodies = operation["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert sorted(b["title"] for b in bodies) == sorted(a.value for a in ACTION_ROLES)
    fields = {b["title"]: b["properties"] for b in bodies}
    assert all(body["version"]["type"] == "integer" for body in fields.values())  # any action may carry it
    fields = {title: {k: v for k, v in body.items() if k != "version"} for title, body in fields.items()}
    assert set(fields["dispatch"]) == {"unit"}
    assert fields["request-extension"]["days"]["type"] == "integer"
    assert set(fields["reply"]) >= {"text", "resolved", "basis"}
    assert fields["reply"]["resolved"]["type"] == "boolean"
    assert set(fields["redirect"]) == {"to", "text"}
    assert set(fields["merge"]) == {"into"}
    assert fields["acknowledge"] == {}
    assert set(operation["responses"]) >= {"200", "400", "401", "403", "404", "409"}


async def test_path_parameters_match_the_path_templates(client: Any) -> None:
    doc = await document(client)
    for path, item in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)


async def test_list_filters_and_codes_are_the_products(client: Any) -> None:
    doc = await document(client)
    listing = doc["paths"]["/inquiries"]["get"]
    query = {p["name"]: p["schema"] for p in listing["parameters"] if p["in"] == "query"}
    assert set(query) == {
        *("state", "unit", "kind", "category", "channel", "overdue", "q", "received_from", "received_to"),
        *("page", "per_page"),
    }
    assert query["received_from"]["format"] == query["received_to"]["format"] == "date"
    assert query["state"]["enum"] == [s.value for s in State]
    assert query["kind"]["enum"] == [k.value for k in Kind]
    assert query["channel"]["enum"] == [c.value for c in Channel]
    assert query["overdue"]["type"] == "boolean"
    assert (query["per_page"]["minimum"], query["per_page"]["maximum"]) == (1, 100)
    inquiry = doc["components"]["schemas"]["Inquiry"]["properties"]
    assert inquiry["state"]["enum"] == [s.value for s in State]
    # the rating is null until the citizen rates: null must be one of the allowed values
    assert set(inquiry["rating"]["properties"]["value"]["enum"]) == {*(r.value for r in Rating), None}
    assert "null" in inquiry["rating"]["properties"]["value"]["type"]


async def test_every_operation_has_responses_and_every_reference_resolves(client: Any) -> None:
    doc = await document(client)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            assert operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status), (method, path, status)
                assert response["description"], (method, path, status)
            if operation.get("security") != []:
                assert "401" in operation["responses"], (method, path)
            if "requestBody" in operation:
                assert "400" in operation["responses"], (method, path)
                assert "413" in operation["responses"], (method, path)

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for value in node for r in refs(value)]
        return []

    references = refs(doc)
    assert "#/components/schemas/Error" in references
    for ref in references:
        target: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref
