"""OncePerInterval: one line per interval for errors that repeat on every request."""

import logging

import pytest

from config import log_filters


def _record(error: Exception) -> logging.LogRecord:
    try:
        raise ConnectionError("Connection refused") from error
    except ConnectionError as raised:
        return logging.LogRecord(
            "django_redis.cache",
            logging.ERROR,
            __file__,
            1,
            "Exception ignored",
            (),
            (type(raised), raised, raised.__traceback__),
        )


def test_one_record_per_interval_without_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 101.0, 105.0, 111.0])
    monkeypatch.setattr(log_filters.time, "monotonic", lambda: next(clock))
    once = log_filters.OncePerInterval(seconds=10)
    records = [_record(OSError("Connection refused")) for _ in range(4)]
    passed = [once.filter(record) for record in records]
    assert passed == [True, False, False, True]
    assert records[0].exc_info is None
    assert records[0].getMessage() == "Exception ignored: OSError: Connection refused"
    assert records[3].getMessage() == (
        "Exception ignored: OSError: Connection refused (2 more like it in the last 10 s)"
    )


def test_the_cache_client_logger_is_filtered(caplog: pytest.LogCaptureFixture) -> None:
    """Wired in the settings: a burst of swallowed cache errors leaves one line."""
    logger = logging.getLogger("django_redis.cache")
    assert any(isinstance(f, log_filters.OncePerInterval) for f in logger.filters)
    with caplog.at_level(logging.ERROR, logger="django_redis.cache"):
        for _ in range(50):
            try:
                raise ConnectionError("Connection refused")
            except ConnectionError:
                logger.exception("Exception ignored")
    lines = [r for r in caplog.records if r.name == "django_redis.cache"]
    assert len(lines) == 1
    assert "ConnectionError: Connection refused" in lines[0].getMessage()
