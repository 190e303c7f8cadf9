"""Where a page of a list ended, as services and stores pass it around."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import InvalidInput


@dataclass(frozen=True)
class PagePosition:
    """The last item's id and the stamp the list sorts by: the next page
    starts after it."""

    item_id: str
    at: str


def invalid_token() -> InvalidInput:
    """A `nextToken` this list did not issue: the page tokens' check, and the
    start key DynamoDB refuses (chalicelib/store/dynamo.py), answer alike."""
    return InvalidInput("nextToken is not valid", code="invalid_next_token")
