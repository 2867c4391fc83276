"""Reading ahead on another database connection while the workbook is written.

A year-end workbook spends most of its time in XlsxWriter (Python), and its queries
(the members' year sums, the class hours, the members themselves) leave Python waiting
for PostgreSQL in between. Run on a thread, a query's wait overlaps the writing: the
thread holds the GIL only while it turns rows into tuples, and PostgreSQL works on the
other core meanwhile.

A thread has its own database connection, which cannot see rows its caller has not
committed: inside an atomic block (a caller's transaction, a test's) everything runs
in the caller's thread, as written. The export itself runs outside one (it reports
progress as it goes), and reads only what its selection fixed beforehand: published
rows, which are never changed, and the members and their records as they are now,
each query on its own snapshot as before.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.db import connection, connections
from django.utils import translation

T = TypeVar("T")

# Rows handed over at a time, and chunks a reader may run ahead of the writer: memory
# stays bounded (a few thousand rows), the thread never waits on a full queue for long.
CHUNK = 2000
AHEAD = 4
_DONE = object()


def _may_use_thread() -> bool:
    return not connection.in_atomic_block


def _run(fn: Callable, language: str | None):
    try:
        with translation.override(language):
            return fn()
    finally:
        connections.close_all()  # this thread's own connections only


class Later:
    """``fn()`` computed on a thread started now; ``get()`` waits for its value (or
    raises its exception). Inside an atomic block ``fn`` runs at the first ``get()``."""

    def __init__(self, fn: Callable[[], T]):
        self._fn = fn
        self._result = None
        self._error: BaseException | None = None
        self._thread = None
        if _may_use_thread():
            self._thread = threading.Thread(target=self._work, args=(translation.get_language(),), daemon=True)
            self._thread.start()

    def _work(self, language):
        try:
            self._result = _run(self._fn, language)
        except BaseException as error:  # handed to get()
            self._error = error

    def get(self):
        if self._thread is None:
            return self._fn()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


class Ahead:
    """Iterate ``make()``'s items, read by a thread started now, up to ``AHEAD`` chunks
    ahead of the consumer. Inside an atomic block, ``make()`` is iterated in place.

    Close it (``with Ahead(...) as rows``) so that a writer that fails stops the reader
    too; the reader's exception is raised in the consumer when it gets there."""

    def __init__(self, make: Callable[[], Iterable[T]]):
        self._make = make
        self._stop = threading.Event()
        self._queue: queue.Queue = queue.Queue(maxsize=AHEAD)
        self._thread = None
        if _may_use_thread():
            self._thread = threading.Thread(target=self._work, args=(translation.get_language(),), daemon=True)
            self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self):
        chunk = []
        for item in self._make():
            chunk.append(item)
            if len(chunk) >= CHUNK:
                if not self._put(chunk):
                    return
                chunk = []
        if chunk:
            self._put(chunk)

    def _work(self, language):
        try:
            _run(self._read, language)
        except BaseException as error:  # raised in the consumer
            self._put(error)
        self._put(_DONE)

    def __iter__(self) -> Iterator[T]:
        if self._thread is None:
            yield from self._make()
            return
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
