from __future__ import annotations

import json
from typing import Any


def test_health_answers_without_a_token(client: Any) -> None:
    response = client.http.get("/health")
    assert response.status_code == 200
    assert json.loads(response.body) == {"ok": True}
