"""A readers-writer lock: many readers at once, or one writer alone.

The vector store's queries take the shared side; reopening the Chroma client (to see
another process's writes) takes the exclusive side, so no query runs on a client while
it is being closed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class RWLock:
    """Shared/exclusive lock; a waiting writer blocks new readers (no writer starvation).

    The shared side is re-entrant per thread (a read inside a read never waits); a
    thread holding either side must not take the exclusive side.

    >>> lock = RWLock()
    >>> with lock.shared(), lock.shared():  # one reader, twice
    ...     lock.readers
    1
    >>> with lock.exclusive():
    ...     lock.writing
    True
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self.readers = 0
        self.writing = False
        self._waiting_writers = 0
        self._mine = threading.local()  # this thread's depth of shared holds

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        depth = getattr(self._mine, "depth", 0)
        if depth:  # already reading in this thread: a waiting writer must not block it
            self._mine.depth = depth + 1
            try:
                yield
            finally:
                self._mine.depth = depth
            return
        with self._cond:
            while self.writing or self._waiting_writers:
                self._cond.wait()
            self.readers += 1
        self._mine.depth = 1
        try:
            yield
        finally:
            self._mine.depth = 0
            with self._cond:
                self.readers -= 1
                if not self.readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            try:
                while self.writing or self.readers:
                    self._cond.wait()
            finally:
                self._waiting_writers -= 1
            self.writing = True
        try:
            yield
        finally:
            with self._cond:
                self.writing = False
                self._cond.notify_all()
