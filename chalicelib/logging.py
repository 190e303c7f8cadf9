"""The one structured logger (Powertools): JSON lines with a correlation id."""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

SERVICE = "course-media"

logger = Logger(service=SERVICE, level=os.environ.get("LOG_LEVEL", "INFO"))


def share_json_logs(log: logging.Logger) -> None:
    """Make another stdlib logger write the same JSON lines as `logger`.

    Chalice logs an unhandled exception through `app.log`, a stdlib logger named
    after the app. Named after the service, it is the very logger Powertools
    writes through; under any other name it gets Powertools' handler and
    formatter here. Build the app with `configure_logs=False`: otherwise Chalice
    adds a plain-text handler and raises the level to ERROR whenever
    `sys.stdout` is not the stream Powertools holds (under pytest, say).
    """
    if log.name.split(".")[0] != logger.name.split(".")[0]:
        copy_config_to_registered_loggers(source_logger=logger, include={log.name})
