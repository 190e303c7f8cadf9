"""The gateway's HTTP side against a running stack: REST under /api as API Gateway
serves it, development tokens, the demo course and the static demo page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]


def test_health_answers_under_api_with_a_request_id(stack: Stack) -> None:
    response = requests.get(stack.api("/health"), timeout=5)
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.headers["x-amzn-RequestId"]


def test_cors_preflight_names_the_route_methods(stack: Stack) -> None:
    response = requests.options(
        stack.api("/courses"),
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=5,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_unknown_api_path_gets_the_deployed_gateway_response(stack: Stack) -> None:
    response = requests.get(stack.api("/no/such/route"), timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_api_path_with_a_bearer_token_is_still_a_404(stack: Stack) -> None:
    headers = {"Authorization": "Bearer not-a-sigv4-header"}
    response = requests.post(stack.api("/no/such/route"), headers=headers, timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_request_without_token_gets_the_contract_error(stack: Stack) -> None:
    response = requests.get(stack.api("/media"), timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_dev_token_is_accepted_by_the_api(stack: Stack) -> None:
    token = requests.get(f"{stack.base_url}/dev/token?user=dana", timeout=5).json()["token"]
    response = requests.get(
        stack.api("/media"), headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_dev_token_refuses_a_user_name_outside_the_id_alphabet(stack: Stack) -> None:
    response = requests.get(f"{stack.base_url}/dev/token", params={"user": "a b/c"}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_created_course_is_read_back_through_the_gateway(stack: Stack) -> None:
    created = stack.call("POST", "/courses", "erin", {"title": "Gateway course"})
    assert created.status_code == 201
    course_id = created.json()["courseId"]
    fetched = stack.call("GET", f"/courses/{course_id}", "erin")
    assert fetched.status_code == 200
    assert fetched.json()["title"] == "Gateway course"


def test_malformed_json_is_a_400_through_the_gateway(stack: Stack) -> None:
    response = requests.post(
        stack.api("/courses"),
        data=b"{not json",
        headers={**stack.headers("erin"), "Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_demo_course_has_an_owner_two_editors_and_a_viewer(stack: Stack) -> None:
    demo = requests.get(f"{stack.base_url}/dev/demo", timeout=5).json()
    roles = {user["userId"]: user["role"] for user in demo["users"]}
    assert roles == {"alice": "owner", "bob": "editor", "carol": "editor", "dana": "viewer"}
    assert len(demo["chapterIds"]) == 2
    for user in demo["users"]:
        response = requests.get(
            stack.api(f"/courses/{demo['courseId']}"),
            headers={"Authorization": f"Bearer {user['token']}"},
            timeout=5,
        )
        assert response.status_code == 200, user["userId"]


def test_demo_page_is_served_at_the_root(stack: Stack) -> None:
    response = requests.get(f"{stack.base_url}/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")


def test_concurrent_requests_each_act_as_their_own_caller(stack: Stack) -> None:
    users = [f"para{i}" for i in range(64)]
    tokens = {user: stack.token(user) for user in users}

    def create(user: str) -> tuple[str, int, str]:
        response = requests.post(
            stack.api("/courses"),
            json={"title": user},
            headers={"Authorization": f"Bearer {tokens[user]}"},
            timeout=10,
        )
        return user, response.status_code, response.json().get("title", "")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(create, users))
    assert results == [(user, 201, user) for user in users]


def test_a_path_with_a_newline_reaches_the_api_and_gets_its_json_400(stack: Stack) -> None:
    # Starlette's `path` convertor stopped at the newline: no route matched and
    # the gateway answered a plain-text 404, which API Gateway never does.
    response = stack.call("GET", "/courses/c_1%0Ab", "erin")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "courseId", "issue": "invalid_id"}]


def test_a_body_past_api_gateways_limit_gets_its_413_in_the_contracts_format(
    stack: Stack,
) -> None:
    # It was {"message": "Request Too Long"}, which no operation declares.
    response = requests.post(
        stack.api("/courses"),
        headers={**stack.headers("erin"), "Content-Type": "application/json"},
        data=b" " * (10 * 1024 * 1024 + 1),
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": {"code": "too_large", "message": "Request Too Long", "details": []}
    }
