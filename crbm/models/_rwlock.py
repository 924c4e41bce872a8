"""A readers-writer lock: many samplers at once, or one training step."""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator


class ReadWriteLock:
    """Any number of readers or one writer at a time.

    A waiting writer holds off new readers, so a steady stream of sampling
    calls cannot starve training. Not reentrant.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not (self._writing or self._writers_waiting))
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if self._readers == 0:
                    self._condition.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            try:
                self._condition.wait_for(lambda: not (self._writing or self._readers))
            finally:  # also when a KeyboardInterrupt ends the wait
                self._writers_waiting -= 1
                self._condition.notify_all()
            self._writing = True
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()
