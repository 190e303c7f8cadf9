"""The local stack's fault settings: what a developer types is what is injected,
and nothing is injected unless asked for."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from devstack.faults import Faults, FaultSettings, FaultSpecError, parse_table_fractions
from devstack.options import parse


def test_make_run_without_options_injects_nothing() -> None:
    settings = parse([]).faults
    assert settings == FaultSettings()
    assert not settings.active
    faults = Faults(settings)
    assert not any(faults.connection_gone() for _ in range(1000))
    assert not faults.dynamodb_throttled({"UploadsTable"})


def test_flags_set_the_faults() -> None:
    settings = parse(
        [
            "--fault-gone-connections",
            "0.05",
            "--fault-duplicate-events",
            "0.1",
            "--fault-throttle-dynamodb",
            "UploadsTable=0.05,EventsTable=0.2",
            "--fault-presign-expires-after",
            "30",
            "--fault-seed",
            "7",
        ]
    ).faults
    assert settings.connections_gone == 0.05
    assert settings.s3_events_duplicated == 0.1
    assert settings.dynamodb_throttled == {"UploadsTable": 0.05, "EventsTable": 0.2}
    assert settings.presign_expires_after_seconds == 30
    assert settings.seed == 7


def test_a_bare_fraction_throttles_every_table() -> None:
    assert parse_table_fractions("0.05") == {"*": 0.05}
    faults = Faults(FaultSettings(dynamodb_throttled={"*": 1.0}))
    assert faults.dynamodb_throttled({"AnyTable"})


def test_only_the_named_table_is_throttled() -> None:
    faults = Faults(FaultSettings(dynamodb_throttled={"UploadsTable": 1.0}))
    assert faults.dynamodb_throttled({"UploadsTable", "MediaTable"})
    assert not faults.dynamodb_throttled({"MediaTable"})


@pytest.mark.parametrize(
    "bad",
    [{"connections_gone": 1.5}, {"s3_events_delay_seconds": -1}, {"nonsense": 1}],
)
def test_impossible_settings_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(FaultSpecError):
        Faults().configure(bad)


def test_a_bad_flag_stops_the_stack_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--fault-throttle-dynamodb", "UploadsTable=lots"])
    assert "TABLE=FRACTION" in capsys.readouterr().err


def test_the_same_seed_injects_the_same_faults() -> None:
    def run() -> list[bool]:
        faults = Faults(FaultSettings(connections_gone=0.3, seed=42))
        return [faults.connection_gone() for _ in range(200)]

    first = run()
    assert first == run()
    assert 30 < sum(first) < 90


def test_injected_faults_are_counted_and_a_reset_clears_them() -> None:
    faults = Faults(FaultSettings(s3_events_duplicated=1.0))
    assert faults.s3_event_duplicated()
    assert faults.injected("s3_events_duplicated") == 1
    faults.configure({}, reset=True)
    assert faults.describe() == {"settings": asdict(FaultSettings()), "injected": {}}
