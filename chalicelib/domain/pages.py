"""Where a page of a list ended, as services and stores pass it around."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PagePosition:
    """The last item's id and the stamp the list sorts by: the next page
    starts after it."""

    item_id: str
    at: str
