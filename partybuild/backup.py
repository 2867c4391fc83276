"""Backups that restore: one consistent database snapshot, the media files, and a
manifest that proves the restored copy is the same.

A backup is a directory ``<root>/partybuild-<UTC timestamp>/`` holding

* ``database.dump`` (PostgreSQL: ``pg_dump -Fc``, custom format, triggers included) or
  ``database.sqlite3`` (SQLite: a copy made with sqlite3's online backup API);
* ``media.tar``: every file under ``MEDIA_ROOT``;
* ``manifest.json``: each of those files with its size and SHA-256, every media file
  with its size and SHA-256, and the key figures (row counts of every table, the
  ledger's count and sum of points, the published boards' counts and sums of totals).

The figures are read in the same snapshot as the dump: on PostgreSQL the command opens
a REPEATABLE READ transaction, exports its snapshot and hands it to ``pg_dump
--snapshot``; on SQLite figures and copy are taken inside one read transaction.
``restore`` refuses a database that holds any table and a non-empty ``MEDIA_ROOT``,
checks every checksum before touching anything, restores, and compares the figures
of the restored database with the manifest.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count, Max, Sum

from branches import dataversion

MANIFEST = "manifest.json"
MEDIA_TAR = "media.tar"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


# --- figures --------------------------------------------------------------------------------


def _sums(model, field: str, using: str) -> dict[str, str | int]:
    row = model.objects.using(using).aggregate(count=Count("pk"), total=Sum(field), max_id=Max("pk"))
    return {"count": row["count"], "sum": str(row["total"] or Decimal("0")), "max_id": row["max_id"] or 0}


def key_figures(using: str = "default") -> dict:
    """Row counts of every table of the project's models and the sums of the tables that
    decide rankings: the ledger's points, the published boards' totals."""
    from branches.grading.models import (
        Publication,
        PublishedBranchScore,
        PublishedGroupScore,
        PublishedMemberScore,
    )
    from members.ledger.models import LedgerEntry

    counts = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            counts[meta.db_table] = model._base_manager.using(using).count()
    return {
        "ledger": _sums(LedgerEntry, "points", using),
        "publications": {
            "count": Publication.objects.using(using).count(),
            "max_id": Publication.objects.using(using).aggregate(m=Max("pk"))["m"] or 0,
        },
        "published_branch_scores": _sums(PublishedBranchScore, "total", using),
        "published_member_scores": _sums(PublishedMemberScore, "total", using),
        "published_group_scores": _sums(PublishedGroupScore, "score", using),
        "tables": dict(sorted(counts.items())),
    }


def figure_differences(expected: dict, actual: dict, prefix: str = "") -> list[str]:
    """Every figure that differs, as ``path: expected → actual``."""
    differences = []
    for key in sorted(set(expected) | set(actual)):
        want, got = expected.get(key), actual.get(key)
        if isinstance(want, dict) and isinstance(got, dict):
            differences += figure_differences(want, got, f"{prefix}{key}.")
        elif want != got:
            differences.append(f"{prefix}{key}: {want} → {got}")
    return differences


# --- files ----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_entry(path: Path) -> dict:
    return {"size": path.stat().st_size, "sha256": sha256_of(path)}


def media_files(root: Path) -> dict[str, dict]:
    """Every regular file under ``root`` (relative POSIX path → size and SHA-256)."""
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): _file_entry(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def _write_media_tar(root: Path, target: Path, names: list[str]) -> None:
    with tarfile.open(target, "w") as tar:
        for name in names:
            tar.add(root / name, arcname=name, recursive=False)


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_env(alias: str = "default") -> dict[str, str]:
    """libpq's environment for the database ``alias`` points at (no password on argv)."""
    db = connections[alias].settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    env["PGDATABASE"] = db["NAME"]
    return env


def _run(command: list[str], *, env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} not found: install the PostgreSQL client (postgresql-client).")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


def _pg_backup(target: Path, alias: str) -> dict:
    connection = connections[alias]
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        figures = key_figures(alias)
        # pg_dump reads the very snapshot the figures were read in, while it is held open.
        _run(
            ["pg_dump", "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", "-f", str(target)],
            env=_pg_env(alias),
        )
    return figures


def _pg_is_empty(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
        )
        return cursor.fetchone()[0] == 0


def _pg_restore(source: Path, alias: str) -> None:
    connections[alias].close()  # pg_restore's own connection; ours reconnects afterwards
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "-d",
            connections[alias].settings_dict["NAME"],
            str(source),
        ],
        env=_pg_env(alias),
    )


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_backup(target: Path, alias: str) -> dict:
    connection = connections[alias]
    with transaction.atomic(using=alias):
        figures = key_figures(alias)  # the read transaction holds the snapshot for the copy
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
    return figures


def _sqlite_is_empty(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view')")
        return cursor.fetchone()[0] == 0


def _sqlite_restore(source: Path, alias: str) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    origin = sqlite3.connect(source)
    try:
        origin.backup(connection.connection)
    finally:
        origin.close()
    connection.close()


# --- the two commands' work ------------------------------------------------------------------


def _is_postgres(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


@dataclass
class BackupResult:
    directory: Path
    manifest: dict


def backup_create(*, root: Path, alias: str = "default", now: datetime.datetime | None = None) -> BackupResult:
    """Write a backup directory under ``root`` and return it with its manifest."""
    now = now or datetime.datetime.now(datetime.UTC)
    directory = Path(root) / f"partybuild-{now:%Y%m%dT%H%M%SZ}"
    suffix = 1
    while directory.exists():
        suffix += 1
        directory = Path(root) / f"partybuild-{now:%Y%m%dT%H%M%SZ}-{suffix}"
    directory.mkdir(parents=True)
    try:
        postgres = _is_postgres(alias)
        database_file = directory / (PG_DUMP if postgres else SQLITE_COPY)
        figures = _pg_backup(database_file, alias) if postgres else _sqlite_backup(database_file, alias)
        media_root = Path(settings.MEDIA_ROOT)
        media = media_files(media_root)
        _write_media_tar(media_root, directory / MEDIA_TAR, list(media))
        manifest = {
            "format": FORMAT,
            "created": now.isoformat(),
            "engine": "postgresql" if postgres else "sqlite",
            "files": {name: _file_entry(directory / name) for name in (database_file.name, MEDIA_TAR)},
            "media": media,
            "figures": figures,
        }
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return BackupResult(directory=directory, manifest=manifest)


def backup_verify(directory: Path) -> dict:
    """The manifest, once every file it lists has its size and checksum."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{directory / MANIFEST} cannot be read: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    for name, expected in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise BackupError(f"{name} is missing from {directory}.")
        if _file_entry(path) != expected:
            raise BackupError(f"{name} does not match its checksum in the manifest: the backup is damaged.")
    return manifest


def restore_run(*, directory: Path, alias: str = "default") -> list[str]:
    """Restore a verified backup into an empty database and an empty MEDIA_ROOT; return
    the differences between the restored figures and the manifest (empty: identical)."""
    manifest = backup_verify(directory)
    postgres = _is_postgres(alias)
    if manifest["engine"] != ("postgresql" if postgres else "sqlite"):
        raise BackupError(f"This is a {manifest['engine']} backup; the database is {connections[alias].vendor}.")
    if not (_pg_is_empty(alias) if postgres else _sqlite_is_empty(alias)):
        raise BackupError(
            f"The database {connections[alias].settings_dict['NAME']} is not empty: restore only into a new, empty database."
        )
    media_root = Path(settings.MEDIA_ROOT)
    if media_files(media_root):
        raise BackupError(f"MEDIA_ROOT ({media_root}) already holds files: restore only into an empty one.")

    if postgres:
        _pg_restore(Path(directory) / PG_DUMP, alias)
    else:
        _sqlite_restore(Path(directory) / SQLITE_COPY, alias)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(Path(directory) / MEDIA_TAR) as tar:
        tar.extractall(media_root, filter="data")

    dataversion.bump_all()  # written by pg_restore, outside Django's connection
    differences = figure_differences(manifest["figures"], key_figures(alias))
    differences += [f"media {d}" for d in figure_differences(manifest["media"], media_files(media_root))]
    return differences
