"""Logging filters the settings' LOGGING wires in."""

from __future__ import annotations

import logging
import threading
import time


class OncePerInterval(logging.Filter):
    """
    Lets one record through per ``seconds``, without its traceback, saying how many it held back.

    For errors that are handled, and repeat on every request while they last: with Redis down,
    the cache client logs each error it swallows (one per cache call, so several per request),
    which buried everything else under tens of thousands of identical tracebacks in a minute.
    One line every ``seconds`` still says that Redis is down, and since when it lasts.
    """

    def __init__(self, name: str = "", seconds: float = 10.0) -> None:
        super().__init__(name)
        self.seconds = seconds
        self._lock = threading.Lock()
        self._last: float | None = None
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._last is not None and now - self._last < self.seconds:
                self._held += 1
                return False
            held, self._held, self._last = self._held, 0, now
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            cause = error.__cause__ or error
            record.msg = f"{record.getMessage()}: {type(cause).__name__}: {cause}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        if held:
            record.msg = (
                f"{record.getMessage()} ({held} more like it in the last {self.seconds:g} s)"
            )
            record.args = ()
        return True
