"""Every route, swept with bad input, generically from `app.routes`.

For each route whose `api_doc` names a body model: malformed JSON, a body that
is not an object, a wrong type for each field, an unknown field, strings past
their max length and a body over 6 MiB. Each is refused with 400 (413 for the
huge body) in the contract's error format, and nothing changes: DynamoDB
items, S3 objects, multipart uploads and published events are compared before
and after. For each authenticated route: no token, an expired token and a
forged token are 401.

Routes added later are swept automatically. The path parameters point at real
resources the caller owns, so a 400 cannot be a 404 in disguise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from pydantic import BaseModel

from app import app
from chalicelib import services
from chalicelib.auth import mint_token
from chalicelib.http import MAX_BODY_BYTES
from chalicelib.routes.routing import handler_of
from chalicelib.services import Container
from chalicelib.settings import get_settings
from tests.conftest import REGION, TEST_SECRET, auth, aws_stack
from tests.fakes import InMemoryPublisher
from tests.integration.course_kit import add_media

pytestmark = pytest.mark.integration

OWNER = "sweeper"
MEMBER = "sweep-editor"
HUGE = MAX_BODY_BYTES + 1024
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    doc: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def body(self) -> type[BaseModel] | None:
        model: type[BaseModel] | None = self.doc.get("body")
        return model


def _routes() -> list[Route]:
    found = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            doc = getattr(handler_of(entry.view_function), "__api_doc__", {})
            found.append(Route(method, path, doc))
    return found


ROUTES = _routes()
BODY_ROUTES = [r for r in ROUTES if r.body is not None]
AUTH_ROUTES = [r for r in ROUTES if r.doc.get("auth", True)]


# ---- the model's JSON schema, read generically ------------------------------


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True, mode="validation")


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _alternatives(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    node = _resolve(node, root)
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [alt for sub in node[key] for alt in _alternatives(sub, root)]
    return [node]


def _json_types(node: dict[str, Any], root: dict[str, Any]) -> set[str]:
    types: set[str] = set()
    for alt in _alternatives(node, root):
        kind = alt.get("type")
        if isinstance(kind, list):
            types.update(kind)
        elif isinstance(kind, str):
            types.add(kind)
        elif "properties" in alt:
            types.add("object")
        elif "const" in alt or "enum" in alt:
            types.update(_type_of(v) for v in [alt.get("const"), *alt.get("enum", [])] if v)
        else:
            return set()  # anything goes: no wrong type to send
    if "number" in types:
        types.add("integer")
    return types


def _type_of(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
        type(value), "object"
    )


WRONG_VALUES: list[tuple[str, Any]] = [
    ("integer", 12345),
    ("string", "not-the-right-type"),
    ("boolean", True),
    ("array", [1]),
    ("object", {"not": "right"}),
]


def _wrong_value(node: dict[str, Any], root: dict[str, Any]) -> Any:
    allowed = _json_types(node, root)
    if not allowed:
        return None
    return next(value for kind, value in WRONG_VALUES if kind not in allowed)


def _string_limits(model: type[BaseModel]) -> dict[str, int]:
    """Top-level string fields with their max length."""
    root = _schema(model)
    limits = {}
    for name, prop in root.get("properties", {}).items():
        for alt in _alternatives(prop, root):
            if alt.get("type") == "string" and "maxLength" in alt:
                limits[name] = int(alt["maxLength"])
    return limits


def _integer_fields(model: type[BaseModel]) -> list[str]:
    """Top-level integer fields (nullable ones included)."""
    root = _schema(model)
    return [
        name
        for name, prop in root.get("properties", {}).items()
        if any(alt.get("type") == "integer" for alt in _alternatives(prop, root))
    ]


def _unbounded_strings(model: type[BaseModel]) -> list[str]:
    """Every string, nested models included, that has no max length."""
    root = _schema(model)
    found: list[str] = []

    def walk(node: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        ref = node.get("$ref", "")
        if ref in seen:
            return
        for alt in _alternatives(node, root):
            if alt.get("type") == "string" and not {"maxLength", "enum", "const"} & set(alt):
                found.append(where)
            for name, prop in alt.get("properties", {}).items():
                walk(prop, f"{where}.{name}" if where else name, seen | {ref})
            if isinstance(alt.get("items"), dict):
                walk(alt["items"], f"{where}[]", seen | {ref})
            if isinstance(alt.get("additionalProperties"), dict):
                walk(alt["additionalProperties"], f"{where}{{}}", seen | {ref})

    walk(root, "", frozenset())
    return found


# ---- the world the sweep runs in --------------------------------------------


@dataclass
class World:
    client: Any
    publisher: InMemoryPublisher
    env: dict[str, str]
    path_values: dict[str, str]
    query_values: dict[str, str]

    def url(self, route: Route) -> str:
        missing = set(re.findall(r"{(\w+)}", route.path)) - set(self.path_values)
        if missing:
            pytest.fail(f"{route.id}: give the sweep a real value for {sorted(missing)}")
        url = route.path.format(**self.path_values)
        query = route.doc.get("query")
        if query is not None:
            names = list(_schema(query).get("properties", {}))
            url += "?" + urlencode(
                {n: self.query_values[n] for n in names if n in self.query_values}
            )
        return url

    def send(self, route: Route, body: bytes | str, headers: dict[str, str] | None = None) -> Any:
        return self.client.http.request(
            route.method, self.url(route), headers=headers or auth(OWNER), body=body
        )

    def state(self) -> dict[str, Any]:
        """Everything a bad request could have written."""
        ddb = boto3.client("dynamodb", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        tables = {}
        for name, table in sorted(self.env.items()):
            if name.endswith("_TABLE"):
                items = ddb.scan(TableName=table)["Items"]
                tables[table] = sorted(json.dumps(i, sort_keys=True) for i in items)
        bucket = self.env["MEDIA_BUCKET"]
        objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        parts = {
            u["UploadId"]: s3.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]).get(
                "Parts", []
            )
            for u in uploads
        }
        return {
            "tables": tables,
            "objects": sorted((o["Key"], o["ETag"], o["Size"]) for o in objects),
            "uploads": sorted((u["Key"], u["UploadId"]) for u in uploads),
            "parts": {k: [(p["PartNumber"], p["ETag"]) for p in v] for k, v in parts.items()},
            "events": [e.id for e in self.publisher.sent],
        }


def _ok(response: Any, expected: tuple[int, ...]) -> dict[str, Any]:
    assert response.status_code in expected, (response.status_code, response.body)
    document = json.loads(response.body)
    assert set(document) == {"error"}, document
    error = document["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert SNAKE.match(error["code"]), error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    return dict(error)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """A course with a chapter and a member, a media file and an open upload,
    all the caller's, so every path parameter names something real.

    One world serves the whole module: every test here compares the state
    before and after its own requests, so sharing cannot hide a write."""
    from chalice.test import Client

    with aws_stack() as env, Client(app) as client:
        fake = InMemoryPublisher()
        services.reset(Container(get_settings(), delivery=fake))
        yield _build_world(client, fake, env)


def _build_world(client: Any, publisher: InMemoryPublisher, env: dict[str, str]) -> World:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.http.post(path, headers=auth(OWNER), body=json.dumps(body))
        assert response.status_code == 201, response.body
        return dict(json.loads(response.body))

    course = post("/courses", {"title": "Sweep"})
    course_id = course["courseId"]
    chapter = post(f"/courses/{course_id}/chapters", {"title": "One"})
    member = client.http.put(
        f"/courses/{course_id}/members/{MEMBER}",
        headers=auth(OWNER),
        body=json.dumps({"role": "editor"}),
    )
    assert member.status_code == 200, member.body
    media = add_media("m_sweep", OWNER)
    upload = post(
        "/uploads",
        {
            "filename": "sweep.mp4",
            "contentType": "video/mp4",
            "size": 12 * 1024**2,
            "target": {"type": "chapter", "courseId": course_id, "chapterId": chapter["chapterId"]},
        },
    )
    return World(
        client=client,
        publisher=publisher,
        env=env,
        path_values={
            "courseId": course_id,
            "chapterId": chapter["chapterId"],
            "userId": MEMBER,
            "mediaId": media.media_id,
            "operationId": upload["operationId"],
            "uploadId": upload["uploadId"],
            "partNumber": "1",
        },
        query_values={"key": upload["key"], "partNumbers": "1", "status": "active"},
    )


# ---- the sweep ---------------------------------------------------------------


def test_every_route_carries_api_doc() -> None:
    missing = [r.id for r in ROUTES if not r.doc]
    assert not missing, f"add @api_doc under the route decorator of {missing}"


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_every_string_in_a_request_body_has_a_max_length(route: Route) -> None:
    assert route.body is not None
    assert _unbounded_strings(route.body) == []


def _sweep(world: World, route: Route, bodies: list[tuple[str | bytes, tuple[int, ...]]]) -> None:
    before = world.state()
    for body, expected in bodies:
        _ok(world.send(route, body), expected)
    assert world.state() == before, "a refused request changed stored state or published"


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_malformed_json_is_400_and_writes_nothing(world: World, route: Route) -> None:
    _sweep(world, route, [(b'{"a": ', (400,)), (b"\xff\xfe{}", (400,)), ("{'a': 1}", (400,))])


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_a_body_that_is_not_an_object_is_400_and_writes_nothing(world: World, route: Route) -> None:
    _sweep(world, route, [(doc, (400,)) for doc in ("[]", "[{}]", '"text"', "42", "true", "null")])


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_a_wrong_type_is_400_naming_the_field_and_writes_nothing(
    world: World, route: Route
) -> None:
    assert route.body is not None
    root = _schema(route.body)
    before = world.state()
    for name, prop in root.get("properties", {}).items():
        wrong = _wrong_value(prop, root)
        if wrong is None:
            continue
        error = _ok(world.send(route, json.dumps({name: wrong})), (400,))
        fields = [str(d.get("field", "")) for d in error["details"]]
        assert any(f == name or f.startswith(name + ".") for f in fields), (name, wrong, error)
    assert world.state() == before


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_an_unknown_field_is_400_naming_it_and_writes_nothing(world: World, route: Route) -> None:
    before = world.state()
    error = _ok(world.send(route, json.dumps({"sweepUnknownField": 1})), (400,))
    assert "sweepUnknownField" in [d.get("field") for d in error["details"]], error
    assert world.state() == before


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_a_string_past_its_max_length_is_400_naming_it_and_writes_nothing(
    world: World, route: Route
) -> None:
    assert route.body is not None
    before = world.state()
    for name, limit in _string_limits(route.body).items():
        error = _ok(world.send(route, json.dumps({name: "x" * (limit + 1)})), (400,))
        assert name in [d.get("field") for d in error["details"]], (name, error)
    assert world.state() == before


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_deeply_nested_json_is_400_and_writes_nothing(world: World, route: Route) -> None:
    # Small enough for the size limit, deep enough to exhaust the JSON parser's stack.
    _sweep(world, route, [("[" * 5000, (400,)), ('{"a":' * 5000, (400,))])


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_an_integer_past_any_real_value_is_400_naming_it_and_writes_nothing(
    world: World, route: Route
) -> None:
    assert route.body is not None
    before = world.state()
    for name in _integer_fields(route.body):
        # 41 digits: more than DynamoDB's numbers hold, so it must never get that far.
        error = _ok(world.send(route, json.dumps({name: 10**40})), (400, 413))
        if error["code"] != "too_large":
            assert name in [d.get("field") for d in error["details"]], (name, error)
    assert world.state() == before


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_a_body_over_64_kib_is_413_and_writes_nothing(world: World, route: Route) -> None:
    before = world.state()
    error = _ok(world.send(route, json.dumps({"padding": "x" * HUGE})), (413,))
    assert error["code"] == "too_large"
    assert world.state() == before


# ---- Uppy's file metadata ----------------------------------------------------
# The generic sweep reaches a body's top-level fields; Uppy's metadata sits one
# level down (`metadata`, `file.meta`) and names the upload's target, so every
# route that carries it is swept with bad metadata here.

META_MODEL = "FileMeta"
SIZE = 1024


def _carries_metadata(route: Route) -> bool:
    return route.body is not None and META_MODEL in _schema(route.body).get("$defs", {})


def _uppy_bodies(world: World, meta: Any) -> dict[str, list[dict[str, Any]]]:
    """For each route that carries metadata, bodies that are valid but for `meta`."""
    file = {"name": "sweep.mp4", "type": "video/mp4", "size": SIZE, "meta": meta}
    v = world.path_values
    return {
        "POST /s3/multipart": [{"filename": "sweep.mp4", "type": "video/mp4", "metadata": meta}],
        "POST /s3/sign": [
            {"method": "POST", "key": "proposed", "file": file},
            {"method": "PUT", "key": "proposed", "file": file},
            {
                "method": "PUT",
                "key": world.query_values["key"],
                "uploadId": v["uploadId"],
                "partNumber": 1,
                "file": file,
            },
        ],
    }


def _good_meta(world: World) -> dict[str, Any]:
    v = world.path_values
    return {"courseId": v["courseId"], "chapterId": v["chapterId"], "size": SIZE}


def _bad_metadata(world: World) -> dict[str, Any]:
    good = _good_meta(world)
    return {
        "courseId outside the id alphabet": {**good, "courseId": "a b"},
        "chapterId outside the id alphabet": {**good, "chapterId": "ch/1"},
        "courseId with a control character": {**good, "courseId": good["courseId"] + "\n"},
        "courseId of the wrong type": {**good, "courseId": 5},
        "chapterId of the wrong type": {**good, "chapterId": [good["chapterId"]]},
        "courseId past 128 characters": {**good, "courseId": "c" * 129},
        "a courseId without a chapterId": {"courseId": good["courseId"], "size": SIZE},
        "size of the wrong type": {**good, "size": True},
        "size past any real value": {**good, "size": 10**40},
        "size as a string past any real value": {**good, "size": "9" * 40},
        "more than 64 fields": {**good, **{f"field{i}": i for i in range(64)}},
        "metadata that is not an object": "courseId=c_1",
    }


def test_every_route_that_carries_metadata_is_swept(world: World) -> None:
    carrying = {r.id for r in BODY_ROUTES if _carries_metadata(r)}
    assert carrying == set(_uppy_bodies(world, {}))


def test_the_metadata_sweep_bodies_are_valid_with_good_metadata(world: World) -> None:
    """So a 400 below is the metadata's, never a 404 or another field's in disguise."""
    routes = {r.id: r for r in BODY_ROUTES}
    for route_id, bodies in _uppy_bodies(world, _good_meta(world)).items():
        for body in bodies:
            response = world.send(routes[route_id], json.dumps(body))
            assert response.status_code == 200, (route_id, body, response.body)


@pytest.mark.parametrize(
    "route", [r for r in BODY_ROUTES if _carries_metadata(r)], ids=lambda r: r.id
)
def test_bad_metadata_is_400_and_writes_nothing(world: World, route: Route) -> None:
    before = world.state()
    for case, meta in _bad_metadata(world).items():
        for body in _uppy_bodies(world, meta)[route.id]:
            error = _ok(world.send(route, json.dumps(body)), (400,))
            assert error["code"] in {"validation_error", "invalid_target", "invalid_size"}, (
                case,
                error,
            )
    assert world.state() == before


# ---- identity ----------------------------------------------------------------

PLACEHOLDERS = {
    "courseId": "c_sweep",
    "chapterId": "ch_sweep",
    "userId": MEMBER,
    "mediaId": "m_sweep",
    "operationId": "op_sweep",
    "uploadId": "up_sweep",
    "partNumber": "1",
}

TOKENS: dict[str, tuple[dict[str, str], str]] = {
    "no token": ({}, "unauthorized"),
    "expired token": (
        {"Authorization": f"Bearer {mint_token(TEST_SECRET, OWNER, ttl_seconds=-3600)}"},
        "token_expired",
    ),
    "forged token": (
        {"Authorization": f"Bearer {mint_token('not-the-server-secret-0123456789', OWNER)}"},
        "invalid_token",
    ),
}


@pytest.mark.parametrize("token", list(TOKENS))
@pytest.mark.parametrize("route", AUTH_ROUTES, ids=lambda r: r.id)
def test_an_authenticated_route_refuses_a_bad_token_with_401(
    world: World, route: Route, token: str
) -> None:
    headers, code = TOKENS[token]
    url = route.path.format(**PLACEHOLDERS)
    response = world.client.http.request(
        route.method, url, headers={"Content-Type": "application/json", **headers}, body=b"{}"
    )
    error = _ok(response, (401,))
    assert error["code"] == code
