"""The upload policy, pure: part sizes within S3's limits, keys, names, types."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest

from chalicelib.domain.upload_policy import (
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    UploadPolicy,
    check_new_file,
    choose_part_size,
    filename_pattern,
    media_id_for,
    object_key,
    parse_key,
    part_length,
    safe_filename,
    type_allowed,
)
from chalicelib.domain.uploads import NewFile
from chalicelib.errors import InvalidInput
from chalicelib.models import LibraryTarget

MIB = 1024**2


@pytest.mark.parametrize(
    "size", [1, 5 * MIB, 8 * MIB + 1, 80 * 1024 * MIB, 80 * 1024 * MIB + 1, 5 * 1024**4]
)
def test_part_size_keeps_every_upload_within_s3_limits(size: int) -> None:
    part = choose_part_size(size)

    assert MIN_PART_SIZE <= part <= MAX_PART_SIZE
    assert math.ceil(size / part) <= MAX_PARTS
    assert part % MIB == 0


@pytest.mark.parametrize("size", [1, 8 * MIB, 8 * MIB + 1, 17 * MIB + 3, 100 * 1024 * MIB + 7])
def test_the_signed_part_lengths_add_up_to_exactly_the_declared_size(size: int) -> None:
    part = choose_part_size(size)
    count = math.ceil(size / part)

    lengths = [part_length(size, part, n) for n in range(1, count + 1)]

    assert sum(lengths) == size
    assert set(lengths[:-1]) <= {part}
    assert 1 <= lengths[-1] <= part


@pytest.mark.parametrize("number", [0, 3])
def test_no_part_length_exists_outside_the_upload(number: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        part_length(9 * MIB, 8 * MIB, number)


def test_small_files_get_the_preferred_eight_mib_parts() -> None:
    assert choose_part_size(17 * MIB) == 8 * MIB


def test_large_files_get_larger_parts_only_as_needed() -> None:
    size = 100 * 1024 * MIB  # 100 GiB needs parts over 10 MiB to fit 10,000
    assert choose_part_size(size) == 11 * MIB


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Lecture 1.mp4", "Lecture_1.mp4"),
        ("../../etc/passwd", "etc_passwd"),
        ("\u00dcberblick \u2013 Teil 2.pdf", "Uberblick_Teil_2.pdf"),
        ("视频.mp4", "mp4"),
        ("...", "file"),
    ],
)
def test_filenames_become_key_safe(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_the_key_names_the_uploader_and_the_operation() -> None:
    key = object_key("alice", "op_0123abcd", "a b.mp4")

    assert key == "uploads/alice/op_0123abcd/a_b.mp4"
    assert parse_key(key) == ("alice", "op_0123abcd")


@pytest.mark.parametrize(
    "key",
    [
        "uploads/alice/a.mp4",
        "other/alice/op_01/a.mp4",
        "uploads/alice/op_01/x/a.mp4",
        "uploads/alice/op_XY/a",
    ],
)
def test_keys_we_did_not_issue_are_not_parsed(key: str) -> None:
    assert parse_key(key) is None


def test_one_media_id_per_operation() -> None:
    assert media_id_for("op_0123abcd") == media_id_for("op_0123abcd") == "med_0123abcd"


@pytest.mark.parametrize(
    ("content_type", "allowed"),
    [
        ("video/mp4", True),
        ("VIDEO/MP4; codecs=avc1", True),
        ("application/pdf", True),
        ("application/x-msdownload", False),
        ("text/html", False),
        ("videos/mp4", False),
    ],
)
def test_content_types_match_the_allowed_list(content_type: str, allowed: bool) -> None:
    assert type_allowed(content_type, ("video/*", "application/pdf")) is allowed


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("lecture 1.mp4", True),
        ("Vorlesung ü 😀.mov", True),
        ("private \ue000 use.mp4", True),
        ("line\nbreak.mp4", False),
        ("tab\t.mp4", False),
        ("exe\u202etxt.mp4", False),  # a bidi override shows it as "exe4pm.txt"
        ("zero\u200bwidth.mp4", False),
        ("para\u2029graph.mp4", False),
        ("   ", False),
    ],
)
def test_a_file_name_is_refused_exactly_where_the_documents_pattern_says(
    name: str, allowed: bool
) -> None:
    policy = UploadPolicy(
        max_bytes=MIB,
        allowed_types=("video/*",),
        stale_after=timedelta(hours=1),
        presign_expiry_seconds=60,
    )
    file = NewFile(
        name=name, content_type="video/mp4", size=1, target=LibraryTarget(type="library")
    )
    if allowed:
        check_new_file(policy, file)
    else:
        with pytest.raises(InvalidInput) as refused:
            check_new_file(policy, file)
        assert refused.value.code == "invalid_filename"
    assert (re.match(filename_pattern(), name) is not None) is allowed
