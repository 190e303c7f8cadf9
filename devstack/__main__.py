"""`python -m devstack` (what `make run` calls): course-media on 127.0.0.1."""

from __future__ import annotations

import sys

from devstack.stack import main

if __name__ == "__main__":
    sys.exit(main())
