"""Settings: a runnable environment loads; a broken one fails fast, naming the variable."""

from __future__ import annotations

import pytest

from chalicelib.settings import Settings, SettingsError, load_settings

COMPLETE = {
    "COURSES_TABLE": "courses",
    "MEDIA_TABLE": "media",
    "UPLOADS_TABLE": "uploads",
    "CONNECTIONS_TABLE": "connections",
    "EVENTS_TABLE": "events",
    "OUTBOX_TABLE": "outbox",
    "MEDIA_BUCKET": "bucket",
    "AUTH_MODE": "hs256",
    "AUTH_JWT_SECRET": "a-secret-of-thirty-two-characters-or-more",
    "WEBSOCKET_ENDPOINT": "https://abc123.execute-api.us-east-1.amazonaws.com/api",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A complete environment and nothing else that settings read."""
    for name, field in Settings.model_fields.items():
        monkeypatch.delenv((field.alias or name).upper(), raising=False)
    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_a_complete_environment_loads_with_defaults(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.courses_table == "courses"
    assert settings.media_bucket == "bucket"
    assert settings.presign_expiry_seconds == 900
    assert settings.s3_endpoint_url == ""


def test_variable_names_match_in_any_case_and_unknown_ones_are_ignored() -> None:
    environ = {name.lower(): value for name, value in COMPLETE.items()} | {
        "Presign_Expiry_Seconds": "120",
        "AWS_LAMBDA_FUNCTION_NAME": "course-media-dev",
    }
    settings = load_settings(environ)
    assert settings.courses_table == "courses"
    assert settings.presign_expiry_seconds == 120


@pytest.mark.parametrize(
    "name", [n for n in COMPLETE if n.endswith(("_TABLE", "_BUCKET", "_ENDPOINT"))]
)
def test_a_missing_resource_name_is_an_error_naming_it(env: pytest.MonkeyPatch, name: str) -> None:
    env.delenv(name)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_every_missing_variable_is_named_at_once(env: pytest.MonkeyPatch) -> None:
    env.delenv("COURSES_TABLE")
    env.delenv("MEDIA_BUCKET")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "COURSES_TABLE" in str(raised.value)
    assert "MEDIA_BUCKET" in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PRESIGN_EXPIRY_SECONDS", "ten"),
        ("PRESIGN_EXPIRY_SECONDS", "10"),
        ("BROADCAST_WORKERS", "0"),
        ("UPLOAD_MAX_BYTES", "-1"),
        ("AUTH_MODE", "basic"),
        ("PROGRESS_BROADCASTS_PER_SECOND", "10"),
    ],
)
def test_an_invalid_value_is_an_error_naming_the_variable(
    env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


@pytest.mark.parametrize("secret", ["short", "x" * 31])
def test_an_hs256_secret_shorter_than_256_bits_is_refused(
    env: pytest.MonkeyPatch, secret: str
) -> None:
    env.setenv("AUTH_JWT_SECRET", secret)
    with pytest.raises(SettingsError, match="AUTH_JWT_SECRET"):
        load_settings()


def test_jwks_mode_without_its_url_issuer_and_audience_is_refused(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("AUTH_MODE", "jwks")
    with pytest.raises(SettingsError, match="AUTH_JWKS_URL"):
        load_settings()


def test_jwks_mode_with_url_issuer_and_audience_loads(env: pytest.MonkeyPatch) -> None:
    env.setenv("AUTH_MODE", "jwks")
    env.setenv("AUTH_JWKS_URL", "https://issuer.example/.well-known/jwks.json")
    env.setenv("AUTH_ISSUER", "https://issuer.example")
    env.setenv("AUTH_AUDIENCE", "client-1")
    env.setenv("PAGE_TOKEN_SECRET", "a-page-token-secret-of-32-characters")
    env.delenv("AUTH_JWT_SECRET")
    assert load_settings().auth_mode == "jwks"


def test_jwks_mode_without_a_page_token_secret_is_refused(env: pytest.MonkeyPatch) -> None:
    # Nothing else could sign the library's page tokens in that mode.
    env.setenv("AUTH_MODE", "jwks")
    env.setenv("AUTH_JWKS_URL", "https://issuer.example/.well-known/jwks.json")
    env.setenv("AUTH_ISSUER", "https://issuer.example")
    env.setenv("AUTH_AUDIENCE", "client-1")
    env.delenv("AUTH_JWT_SECRET")
    with pytest.raises(SettingsError, match="PAGE_TOKEN_SECRET"):
        load_settings()


def test_allowed_types_are_read_from_a_comma_separated_list(env: pytest.MonkeyPatch) -> None:
    env.setenv("UPLOAD_ALLOWED_TYPES", " video/* , Application/PDF,,")
    assert load_settings().allowed_types == ("video/*", "application/pdf")
