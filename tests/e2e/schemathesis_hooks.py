"""Schemathesis hooks for tests/e2e/test_schemathesis.py, loaded by the CLI
(`SCHEMATHESIS_HOOKS`).

A page token is opaque and signed: any value the server did not issue is 400
`invalid_next_token`, which the document says in words but no schema can say.
So a schema-valid request carries a token the server issued to the caller
(SCHEMATHESIS_PAGE_TOKENS, by path, from the test's setup), or none where the
test has none; requests generated to break the schema keep what was generated.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from schemathesis import Case, HookContext
from schemathesis.core.parameters import ParameterLocation

PAGE_TOKENS: dict[str, str] = json.loads(os.environ.get("SCHEMATHESIS_PAGE_TOKENS", "{}"))


@schemathesis.hook
def map_case(context: HookContext, case: Case[Any]) -> Case[Any]:
    query = case.query
    if not query or "nextToken" not in query:
        return case
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.QUERY):
        return case
    token = PAGE_TOKENS.get(case.operation.path)
    if token is None:
        del query["nextToken"]
    else:
        query["nextToken"] = token
    return case


# 400s for values that are valid alone but not for the resource as it stands,
# which no schema can say (docs/API.md names each): an itemOrder that is not the
# chapter's items, a part number past the upload's partCount, progress past its
# size, parts S3 does not hold. Only these codes are excused, and the test counts
# them; any other 400 for a schema-valid request still fails the run.
STATE_CODES = frozenset(
    {"invalid_item_order", "invalid_part_number", "invalid_progress", "invalid_parts"}
)


@schemathesis.hook
def filter_failure(context: HookContext, failure: Any, case: Case[Any], response: Any) -> bool:
    if getattr(failure, "code", None) != "ST202" or response.status_code != 400:
        return True
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return True
    return code not in STATE_CODES
