"""The upload policy, pure: what may be uploaded (type, size, name), how it is
cut into parts within S3's limits, and where its object lives."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.domain.uploads import NewFile
from chalicelib.errors import InvalidInput, TooLarge
from chalicelib.ids import OPERATION_ID

MIB = 1024**2
# S3's own limits for multipart uploads.
MIN_PART_SIZE = 5 * MIB
MAX_PART_SIZE = 5 * 1024**3
MAX_PARTS = 10_000
# A single PUT (Uppy's small-file path) may not exceed this.
MAX_SINGLE_PUT = 5 * 1024**3
# Parts smaller than this make a browser spend its time on request overhead.
PREFERRED_PART_SIZE = 8 * MIB
MAX_PARTS_PER_BATCH = 100
MAX_FILENAME = 255
KEY_PREFIX = "uploads/"

# What a file name may not hold: control characters, the invisible ones that
# reorder or hide text (format: bidi overrides, zero-width), line and paragraph
# separators, and lone surrogates (no UTF-8 holds them). Private-use and
# unassigned characters are text like any other.
REFUSED_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

_KEY = re.compile(rf"uploads/([^/]+)/({OPERATION_ID})/([^/]+)")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadPolicy:
    max_bytes: int
    allowed_types: tuple[str, ...]
    stale_after: timedelta
    presign_expiry_seconds: int


def check_new_file(policy: UploadPolicy, file: NewFile, *, single_put: bool = False) -> None:
    """Every check of the file itself a new upload must pass (the caller's right
    to the target is the lifecycle's)."""
    name = file.name
    if (
        not name.strip()
        or len(name) > MAX_FILENAME
        or any(unicodedata.category(ch) in REFUSED_IN_NAMES for ch in name)
    ):
        raise InvalidInput(
            "filename must be 1 to 255 characters, not all blank, with no control, "
            "format or separator character",
            code="invalid_filename",
        )
    if file.size < 1:
        raise InvalidInput("size must be at least 1 byte", code="invalid_size")
    limit = min(policy.max_bytes, MAX_SINGLE_PUT if single_put else MAX_PARTS * MAX_PART_SIZE)
    if file.size > limit:
        raise TooLarge(f"size must be at most {limit} bytes", code="upload_too_large")
    if not type_allowed(file.content_type, policy.allowed_types):
        raise InvalidInput(
            f"content type {file.content_type!r} is not allowed", code="unsupported_type"
        )


def choose_part_size(size: int) -> int:
    """The smallest whole-MiB part size at or above our preference that keeps the
    upload within S3's 10,000 parts."""
    needed = math.ceil(size / MAX_PARTS)
    part = max(PREFERRED_PART_SIZE, MIN_PART_SIZE, math.ceil(needed / MIB) * MIB)
    return min(part, MAX_PART_SIZE)


def part_length(size: int, part_size: int, part_number: int) -> int:
    """The exact length of part `part_number` (1-based) of an upload of `size`
    bytes cut at `part_size`: every part is `part_size` but the last, which holds
    the rest. The server signs it into the part's URL, so S3 accepts no other."""
    count = max(1, math.ceil(size / part_size))
    if not 1 <= part_number <= count:
        raise ValueError(f"part {part_number} is outside 1..{count}")
    return part_size if part_number < count else size - (count - 1) * part_size


def type_allowed(content_type: str, allowed: Sequence[str]) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    for pattern in allowed:
        if pattern.endswith("/*") and base.startswith(pattern[:-1]):
            return True
        if base == pattern:
            return True
    return False


def _refused_characters() -> str:
    """A regex class body of the code points of REFUSED_IN_NAMES in this
    Python's Unicode database, as ranges (two dozen). Surrogates are left out:
    a string of the document's is Unicode text, which holds none, and regex
    engines that match code points (Rust's, behind many validators) refuse them."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)) in REFUSED_IN_NAMES - {"Cs"}:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))

    # BMP code points as \uXXXX, the rest as characters, which JSON and regex
    # engines alike take as one.
    def char(cp: int) -> str:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)

    return "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges)


@functools.cache
def filename_pattern() -> str:
    """What `check_new_file` accepts as a name (1 to 255 characters checked
    apart), as one regular expression for the API's document: no refused
    character, and one that is not whitespace. Built on demand: it walks all
    of Unicode."""
    refused = _refused_characters()
    return f"^[^{refused}]*[^\\s{refused}][^{refused}]*$"


def content_type_pattern(allowed: Sequence[str]) -> str:
    """What `type_allowed` accepts of a well-formed content type
    (`type/subtype[;parameters]`), as one regular expression for the API's
    document: the comparison ignores case, so each letter is a class."""

    def any_case(text: str) -> str:
        return "".join(
            f"[{c.upper()}{c.lower()}]" if c.isalpha() else "\\" + c if c in ".+" else c
            for c in text
        )

    choices = [any_case(p[:-1]) + r"[\w.+-]+" if p.endswith("/*") else any_case(p) for p in allowed]
    return f"^(?:{'|'.join(choices)})(;.*)?$"


def check_part_numbers(part_numbers: Sequence[int], highest: int) -> None:
    """A batch of part URLs to sign: 1 to 100 numbers, each 1..highest."""
    if not part_numbers or len(part_numbers) > MAX_PARTS_PER_BATCH:
        raise InvalidInput(
            f"ask for 1 to {MAX_PARTS_PER_BATCH} part numbers at a time", code="invalid_parts"
        )
    bad = [n for n in part_numbers if not 1 <= n <= highest]
    if bad:
        raise InvalidInput(
            f"part numbers must be between 1 and {highest}",
            code="invalid_part_number",
            details=[{"field": "partNumbers", "issue": "out_of_range", "value": n} for n in bad],
        )


def check_completed_parts(parts: Sequence[tuple[int, str]], highest: int) -> None:
    """The parts a client names for completion: distinct numbers, each 1..highest."""
    numbers = [n for n, _ in parts]
    if (
        not parts
        or len(set(numbers)) != len(numbers)
        or not all(1 <= n <= highest for n in numbers)
    ):
        raise InvalidInput(
            f"parts must name distinct part numbers between 1 and {highest}",
            code="invalid_parts",
        )


def safe_filename(filename: str) -> str:
    """The filename as it appears in the object key: ASCII letters, digits, dot,
    dash and underscore, so the key needs no URL-encoding in S3 events."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._-")
    return (cleaned or "file")[-120:]


def object_key(user_id: str, operation_id: str, filename: str) -> str:
    return f"{KEY_PREFIX}{user_id}/{operation_id}/{safe_filename(filename)}"


def parse_key(key: str) -> tuple[str, str] | None:
    """(userId, operationId) of a key we issued; None for any other key."""
    match = _KEY.fullmatch(key)
    return (match.group(1), match.group(2)) if match else None


def media_id_for(operation_id: str) -> str:
    """One media id per operation, so every duplicate completion names the same file."""
    return "med_" + operation_id.removeprefix("op_")
