"""Data versions: a number per table, bumped when a write to it commits, and values
cached under the versions of the tables they were read from (issue 14).

Every statement on Django's connections passes ``track_writes`` (installed on each new
connection): an INSERT, UPDATE, DELETE, TRUNCATE or MERGE names the tables it writes,
and when the transaction commits their versions are incremented in Django's cache. The
ORM's saves, ``bulk_create``, ``update()`` and raw SQL alike — the services, the
imports, the grading's statements and the data migrations — bump without knowing it.
Not seen: a ``COPY`` through ``copy_expert`` (``seed_demo``'s ``copy_rows`` calls
``written``), a trigger's writes (mapped in ``DERIVED``: the ledger's month totals follow its
entries; the audit's event tables are never cached from, see ``UNTRACKED``) and anything
written outside Django (psql, a restore: ``manage.py restore`` calls ``bump_all``, and
after a hand edit run ``bump_all`` or clear the cache).

``cached(name, parts, compute)`` keeps ``compute()``'s value with the versions of every
table its queries named (recorded while it runs), read *before* it ran: a write that
commits during the computation bumps after its commit, so the value is kept under the
versions it may predate and the next reader computes again — never a value older than
its versions. A hit reads the entry and the current versions of its tables (two cache
calls, no query). A version missing from the cache (evicted, or Redis restarted) is a
new random number, so what was kept under the old one is never read; a cache that is
down is a miss (the value is computed as without a cache), and a bump that could not be
made is retried every few seconds by a thread of the process, and this process's reads
are misses until it succeeds; a kept value lives an hour at most (``SECONDS``).

In a test's transaction (Django's ``TestCase``, pytest-django's ``db``), which never
commits, a statement of the test itself bumps at once, and what an inner block (a
service's ``atomic``) kept bumps when the next version is read after it: what the test
wrote is what the rest of it reads, and a block rolled back (the forecast's grading)
bumps nothing, as in production.
"""

import functools
import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)
T = TypeVar("T")

PREFIX = "dv"
EPOCH = "*"  # bumped by ``bump_all``: every version at once
# A kept value lives an hour at most: the bound on what no version shows (a write
# outside Django, a bump lost with its process while the cache was down).
SECONDS = 3600
RETRY_SECONDS = 5.0
# Tables that a trigger writes when another is written (members/ledger migration 0011).
DERIVED = {"ledger_ledgerentry": ("ledger_membermonthpoints",)}

_WRITES = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO)\s+(?:ONLY\s+)?\"?(\w+)\"?",
    re.IGNORECASE,
)
_NAMES = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?\"?(\w+)\"?", re.IGNORECASE)
_owed: set[str] = set()  # bumps that failed (cache down), per process
_owed_lock = threading.Lock()
_retrying = False  # a thread of this process retries the owed bumps


@functools.cache
def tables() -> frozenset[str]:
    """Every table of the installed models (many-to-many tables included)."""
    names = set()
    for model in apps.get_models(include_auto_created=True):
        names.add(model._meta.db_table)
    return frozenset(names)


@functools.cache
def untracked() -> frozenset[str]:
    """Tables written by triggers we do not follow: the audit's event tables
    (django-pghistory). A value read from one is not cached."""
    try:
        from pghistory.models import Event
    except ImportError:  # pragma: no cover
        return frozenset()
    return frozenset(m._meta.db_table for m in apps.get_models() if issubclass(m, Event))


@functools.cache
def deploy_signature() -> str:
    """What a deploy changes beside the database: every template's source and the
    translation catalogues (sizes and times). Part of the key of every kept rendering,
    so that new code or wording is never served what the old one rendered. Read once a
    process: a deploy restarts it."""
    digest = hashlib.sha256()
    for base in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(base).rglob("*.html")):
            digest.update(path.read_bytes())
    for base in settings.LOCALE_PATHS:
        for mo in sorted(Path(base).glob("*/LC_MESSAGES/*.mo")):
            stat = mo.stat()
            digest.update(f"{mo}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _key(table: str) -> str:
    return f"{PREFIX}:v:{table}"


def _fresh() -> int:
    return random.getrandbits(62)


# --- writes -------------------------------------------------------------------------


def written_tables(sql: str) -> set[str]:
    """The tables a statement writes (none for a SELECT, even ``FOR UPDATE``)."""
    if not isinstance(sql, str) or sql.lstrip()[:6].upper() == "SELECT":
        return set()
    known = tables()
    found = {name.lower() for name in _WRITES.findall(sql)} & known
    for name in list(found):
        found.update(DERIVED.get(name, ()))
    return found


def track_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    written_ = written_tables(sql)
    if written_:
        written(context["connection"], written_)
    return result


class _Bump:
    """An ``on_commit`` callback bumping ``names``. Registered once per set of tables
    and savepoint: Django drops those of a savepoint rolled back (and all of a
    transaction rolled back), so what runs at commit is exactly what was kept."""

    def __init__(self, names: frozenset[str]):
        self.names = names

    def __call__(self) -> None:
        bump(self.names)


def _in_test(conn) -> bool:
    """Inside a test's transaction (Django's ``TestCase``), which never commits."""
    return bool(conn.in_atomic_block and conn.atomic_blocks and conn.atomic_blocks[0]._from_testcase)


def _test_commits(conn) -> None:
    """In a test, back in the test's own transaction after its inner blocks: what they
    kept is committed as far as the test can tell, so their bumps run now."""
    if not _in_test(conn) or not all(a._from_testcase for a in conn.atomic_blocks):
        return
    ours = [entry for entry in conn.run_on_commit if isinstance(entry[1], _Bump)]
    if ours:
        conn.run_on_commit = [entry for entry in conn.run_on_commit if not isinstance(entry[1], _Bump)]
        for _sids, callback, _robust in ours:
            callback()


def written(conn, names: set[str]) -> None:
    """``names`` were written on ``conn``: bump them when its transaction commits (at
    once in autocommit)."""
    names = frozenset(names)
    if _in_test(conn) and all(a._from_testcase for a in conn.atomic_blocks):
        bump(names)  # a test's transaction never commits: its statements are as autocommit
        return
    sids = set(conn.savepoint_ids)
    # A bulk import runs thousands of statements: one callback per tables and savepoint.
    if any(isinstance(f, _Bump) and f.names == names and s == sids for s, f, _r in conn.run_on_commit):
        return
    transaction.on_commit(_Bump(names), using=conn.alias)


def install(sender=None, connection=None, **_kwargs) -> None:
    # First in the list, never last: a connection made inside another wrapper's block
    # (pghistory's context of a request) must not have ours popped at that block's end
    # (``execute_wrapper`` pops the last one), leaving the other's installed.
    if connection is not None and track_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, track_writes)


def connect() -> None:
    connection_created.connect(install, weak=False, dispatch_uid="dataversion_install")


def bump(names) -> None:
    """Increment the versions of ``names`` (tables, or ``EPOCH``)."""
    failed = []
    for name in names:
        try:
            cache.incr(_key(name))
        except ValueError:  # not in the cache (or the cache is down): a new number
            if not cache.add(_key(name), _fresh(), None) and cache.get(_key(name)) is None:
                failed.append(name)
        except Exception:
            logger.warning("data version of %s: bump failed", name, exc_info=True)
            failed.append(name)
    if failed:
        with _owed_lock:
            _owed.update(failed)
        logger.warning("data versions owed (cache unavailable): %s", sorted(failed))
        _retry_later()


def _retry_later() -> None:
    """Retry the owed bumps every few seconds until they are made: a worker that wrote
    while the cache was down may read no version for a long time, and what the web kept
    before the outage must not outlive it."""
    global _retrying
    with _owed_lock:
        if _retrying:
            return
        _retrying = True

    def run() -> None:
        global _retrying
        while True:
            time.sleep(RETRY_SECONDS)
            _pay_owed()
            with _owed_lock:
                if not _owed:
                    _retrying = False
                    return

    threading.Thread(target=run, name="dataversion-retry", daemon=True).start()


def bump_all() -> None:
    """Every table's version at once: after writes no statement showed (a COPY, a
    restore, psql)."""
    bump([EPOCH])


def _pay_owed() -> bool:
    """Retry the bumps this process could not make; False while some remain."""
    with _owed_lock:
        owed = set(_owed)
        _owed.clear()
    if owed:
        bump(owed)
    with _owed_lock:
        return not _owed


# --- reads --------------------------------------------------------------------------


def versions(names) -> dict[str, int] | None:
    """The current versions of ``names`` and the epoch; a missing one is given a new
    random number. None when the cache cannot answer (then nothing may be cached)."""
    return _read(names, make_missing=True)


def _current(names) -> dict[str, int] | None:
    """The versions of ``names`` as they are, without making missing ones (a hit
    needs every one still there)."""
    return _read(names, make_missing=False)


def _read(names, *, make_missing: bool) -> dict[str, int] | None:
    _test_commits(connection)
    if not _pay_owed():
        return None
    keys = {_key(n): n for n in sorted({*names, EPOCH})}
    try:
        found = cache.get_many(list(keys))
        missing = [k for k in keys if k not in found]
        if missing and make_missing:
            for k in missing:
                cache.add(k, _fresh(), None)
            found |= cache.get_many(missing)
    except Exception:
        logger.warning("data versions: read failed", exc_info=True)
        return None
    if any(k not in found for k in keys):
        return None
    return {keys[k]: v for k, v in found.items() if k in keys}


@contextmanager
def reading(using=connection):
    """The tables named by the statements run inside (reads and writes alike)."""
    read: set[str] = set()

    def record(execute, sql, params, many, context):
        if isinstance(sql, str):
            read.update(name.lower() for name in _NAMES.findall(sql))
        return execute(sql, params, many, context)

    with using.execute_wrapper(record):
        yield read


def cached(
    name: str,
    parts,
    compute: Callable[[], T],
    *,
    also: tuple[str, ...] = (),
    seconds: int = SECONDS,
    keep: Callable[[T], bool] | None = None,
) -> T:
    """``compute()``, kept under ``parts`` (everything it depends on beside the
    database: the unit, the day, the viewer's scope, the language) and the versions of
    the tables it read. ``also``: tables of what it uses that was read before it ran
    (the user, their scope's units). ``keep``: whether a value is to be kept (else it
    is returned only)."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"{PREFIX}:c:{name}:{digest}"
    try:
        entry = cache.get(key)
    except Exception:
        entry = None
    if entry is not None:
        kept, value = entry
        if _current(kept) == kept:
            return value
    before = versions(tables())
    with reading() as read:
        value = compute()
    if before is None or read & untracked() or (keep is not None and not keep(value)):
        return value
    kept = {t: before[t] for t in (read | set(also)) & tables()} | {EPOCH: before[EPOCH]}
    try:
        cache.set(key, (kept, value), seconds)
    except Exception:
        logger.warning("data versions: keeping %s failed", name, exc_info=True)
    return value
