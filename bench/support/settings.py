"""Settings for benchmarks only: the production settings (DEBUG and the rest from the environment) plus a URL
configuration with a trivial baseline view, and the event lock-hold log written to BENCH_LOCK_HOLD_LOG. Nothing
in a deployment names this module, so the baseline view is never reachable there."""

import os

from dlsc.settings import *  # noqa: F403
from dlsc.settings import LOGGING

ROOT_URLCONF = "bench.support.urls"

if os.environ.get("BENCH_LOCK_HOLD_LOG"):
    LOGGING = {
        **LOGGING,
        "formatters": {**LOGGING["formatters"], "bare": {"format": "%(message)s"}},
        "handlers": {
            **LOGGING["handlers"],
            "lock_hold": {
                "class": "logging.FileHandler",
                "filename": os.environ["BENCH_LOCK_HOLD_LOG"],
                "formatter": "bare",
                "delay": True,
            },
        },
        "loggers": {
            **LOGGING["loggers"],
            "events.lock_hold": {"level": "DEBUG", "handlers": ["lock_hold"], "propagate": False},
        },
    }
