"""Structured JSON logs and CloudWatch metrics (embedded metric format), via Powertools.

Both are created on first use: importing the app stays cheap. Every log line carries the
service, and whatever context `bind()` added (tenant, scan, correlation id); API keys and
artifact bodies are never logged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SERVICE = "pipeguard"
NAMESPACE = "Pipeguard"

_lock = threading.Lock()
_logger: Any = None
_metrics: Any = None


def logger() -> Any:
    """The process's Powertools logger (JSON to stdout; level from LOG_LEVEL)."""
    global _logger
    with _lock:
        if _logger is None:
            import logging
            import os

            from aws_lambda_powertools import Logger

            _logger = Logger(
                service=SERVICE,
                level=os.environ.get("LOG_LEVEL", "INFO"),
                logger_handler=logging.StreamHandler(_Stdout()),
            )
        return _logger


class _Stdout:
    """Whatever `sys.stdout` is at the time of writing (it is swapped by test runners)."""

    def write(self, text: str) -> int:
        import sys

        return sys.stdout.write(text)

    def flush(self) -> None:
        import sys

        sys.stdout.flush()


def metrics() -> Any:
    """The process's Powertools metrics (EMF; flushed by `flush()` after each invocation)."""
    global _metrics
    with _lock:
        if _metrics is None:
            from aws_lambda_powertools import Metrics

            _metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
        return _metrics


def count(name: str, value: float = 1) -> None:
    _add(name, "Count", value)


def milliseconds(name: str, value: float) -> None:
    _add(name, "Milliseconds", value)


def _add(name: str, unit: str, value: float) -> None:
    """Add a value, or nothing when metrics are disabled: Powertools keeps disabled metrics and
    prints them to stdout at its 100-value limit, which `flush()` never clears then."""
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if not is_metrics_disabled():
        metrics().add_metric(name=name, unit=MetricUnit[unit], value=value)


def flush() -> None:
    """Write the metrics gathered by this invocation (nothing when there are none)."""
    if _metrics is not None and _metrics.metric_set:
        _metrics.flush_metrics(raise_on_empty_metrics=False)


@contextmanager
def bound(**keys: Any) -> Iterator[Any]:
    """Log with these keys (tenant_id, scan_id, correlation_id...) for the duration."""
    log = logger()
    present = {k: v for k, v in keys.items() if v is not None}
    log.thread_safe_append_keys(**present)  # the local stack serves and evaluates in threads
    try:
        yield log
    finally:
        log.thread_safe_remove_keys(list(present))
