"""The one structured logger (Powertools): JSON lines with a correlation id."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

SERVICE = "course-media"

logger = Logger(service=SERVICE, level=os.environ.get("LOG_LEVEL", "INFO"))
