"""scripts/mint_token.py: the README's way to get a development token."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.auth import TokenVerifier
from chalicelib.settings import Settings
from devstack.options import DEV_SECRET
from scripts import mint_token

TABLES: dict[str, Any] = dict.fromkeys(
    (
        "courses_table",
        "media_table",
        "uploads_table",
        "connections_table",
        "events_table",
        "outbox_table",
    ),
    "t",
) | {"websocket_endpoint": "http://127.0.0.1:9/api"}


def _verify(token: str, secret: str) -> str:
    settings = Settings(**TABLES, media_bucket="b", auth_mode="hs256", auth_jwt_secret=secret)
    return TokenVerifier(settings).verify(token).user_id


def test_a_minted_token_is_accepted_by_the_local_stacks_verifier(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    assert mint_token.main(["alice"]) == 0
    assert _verify(capsys.readouterr().out.strip(), DEV_SECRET) == "alice"


def test_the_secret_comes_from_the_environment_when_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-stage-secret-0123456789abcdef-xyz")
    mint_token.main(["bob"])
    assert _verify(capsys.readouterr().out.strip(), "a-stage-secret-0123456789abcdef-xyz") == "bob"


def test_a_user_id_unfit_for_keys_is_refused() -> None:
    with pytest.raises(SystemExit) as exited:
        mint_token.main(["a/b"])
    assert exited.value.code == 2


def test_a_secret_the_server_would_refuse_is_refused_with_the_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        mint_token.main(["alice", "--secret", "x" * 20])
    assert exited.value.code == 2
    assert "at least 32 characters" in capsys.readouterr().err
