"""Mint a development token (HS256) for the local stack or a dev stage.

    .venv/bin/python -m scripts.mint_token alice
    .venv/bin/python -m scripts.mint_token alice --ttl 7200 --secret "$AUTH_JWT_SECRET"

The secret comes from --secret, else AUTH_JWT_SECRET, else the fixed
development secret `make run` serves with (devstack/options.py). The token goes to stdout
alone, so `TOKEN=$(... mint_token alice)` works.
"""

from __future__ import annotations

import argparse
import os
import sys

from chalicelib.auth import mint_token
from chalicelib.ids import is_user_id
from chalicelib.settings import hs256_secret_problem
from devstack.options import DEV_SECRET


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mint a development JWT (HS256).")
    parser.add_argument("user", help="the user id, the token's `sub`")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (3600)")
    parser.add_argument("--secret", help="HS256 secret (default: $AUTH_JWT_SECRET)")
    args = parser.parse_args(argv)
    secret = args.secret or os.environ.get("AUTH_JWT_SECRET") or DEV_SECRET
    if not is_user_id(args.user):
        parser.error(f"{args.user!r} is not a valid user id (letters, digits, ._@+-)")
    if problem := hs256_secret_problem(secret):
        parser.error(problem)
    if args.ttl <= 0:
        parser.error("--ttl must be positive")
    print(mint_token(secret, args.user, args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
