"""A backup restores identically: seeded ledger entries, a published board and uploaded
files are backed up, restored by ``manage.py restore`` (another process) into a new,
empty PostgreSQL database and an empty MEDIA_ROOT, and compared row for row and byte
for byte with the originals. The restore refuses a non-empty database, a damaged file
and a restored copy whose figures differ from the manifest."""

import datetime
import hashlib
import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from branches.grading import publishing, services
from members.ledger.services import ledger_entry_record, rule_version_for

from .. import factories as f
from ..conftest import requires_postgres

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("backup")]

APRIL = datetime.date(2025, 4, 1)
REPO = Path(settings.BASE_DIR)
# The tables that decide rankings and pay, compared row for row after the restore.
COMPARED = [
    "ledger_ledgerentry",
    "grading_publication",
    "grading_publishedbranchscore",
    "grading_publishedmemberscore",
    "grading_publishedgroupscore",
]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # binary content: a byte changed would show


@pytest.fixture(autouse=True)
def _postgres_only():
    requires_postgres()


def _pg_params(dbname: str) -> dict:
    db = connection.settings_dict
    return {
        "dbname": dbname,
        "host": db["HOST"] or None,
        "port": db["PORT"] or None,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
    }


def _admin_connection():
    conn = psycopg2.connect(**_pg_params("postgres"))
    conn.autocommit = True
    return conn


@pytest.fixture
def new_database():
    """A fresh database with a unique name, dropped after the test; yields its name."""
    names = []

    def make() -> str:
        name = f"pb_backup_restore_{uuid.uuid4().hex[:12]}"
        conn = _admin_connection()  # autocommit: CREATE DATABASE refuses a transaction
        with conn.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        names.append(name)
        return name

    yield make
    conn = _admin_connection()
    with conn.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _database_url(name: str) -> str:
    p = _pg_params(name)
    auth = p["user"] + (f":{p['password']}" if p["password"] else "")
    return f"postgres://{auth}@{p['host'] or '127.0.0.1'}:{p['port'] or 5432}/{name}"


def _restore(directory: Path, *, database: str, media: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=_database_url(database), MEDIA_ROOT=str(media))
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(directory)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _rows(dbname: str, table: str) -> list[tuple]:
    with psycopg2.connect(**_pg_params(dbname)) as conn, conn.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")
        rows = cursor.fetchall()
    conn.close()
    return rows


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def seeded(tree, users, member_a):
    """Ledger entries (one with an uploaded evidence file), an activity attachment and a
    published April board of PLANT's two branches."""
    member_b = f.MemberFactory(branch=tree.branch_b, name="赵敏")
    rules = rule_version_for(unit=tree.branch_a, month=APRIL).rules
    awards = [
        (member_a, "study_task", "3", None),
        (member_b, "exemplary_award", "2", "证明.png"),
        (member_a, "deduction", "-1.5", None),
        (member_a, "exemplary_award", "5", "表彰决定.png"),
    ]
    for member, code, points, evidence in awards:
        ledger_entry_record(
            member=member,
            rule=rules.get(code=code),
            month=APRIL,
            points=Decimal(points),
            reason="支部会议决定",
            user=users.secretary,
            evidence=SimpleUploadedFile(evidence, PNG + evidence.encode(), content_type="image/png")
            if evidence
            else None,
        )
    # A generated report, written straight into MEDIA_ROOT like the report jobs do.
    report = Path(settings.MEDIA_ROOT) / "reports" / "2025" / "04" / "年度汇总.xlsx"
    report.parent.mkdir(parents=True)
    report.write_bytes(PNG[::-1])
    for branch, score in ((tree.branch_a, "90"), (tree.branch_b, "80")):
        for dimension in ("committee_work", "production", "other"):
            services.score_input_set(
                branch=branch, month=APRIL, dimension=dimension, score=Decimal(score), user=users.committee
            )
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    services.grading_run_execute(run_id=run.pk)
    publishing.board_publish(committee=tree.plant, month=APRIL, user=users.committee)
    return tree


def test_a_backup_restores_into_a_new_database_identically(seeded, tmp_path, new_database):
    call_command("backup", dir=str(tmp_path / "backups"))
    (directory,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["figures"]["ledger"]["count"] == 4 and manifest["figures"]["ledger"]["sum"] == "8.50"
    assert manifest["figures"]["published_branch_scores"]["count"] == 2
    assert len(manifest["media"]) >= 1

    source = connection.settings_dict["NAME"]
    target = new_database()
    media = tmp_path / "restored-media"
    result = _restore(directory, database=target, media=media)
    assert result.returncode == 0, result.stderr
    assert "match the manifest" in result.stdout

    for table in COMPARED:
        original = _rows(source, table)
        assert _rows(target, table) == original, table
    assert len(_rows(target, "ledger_ledgerentry")) == 4
    assert len(_rows(target, "grading_publishedbranchscore")) == 2
    with psycopg2.connect(**_pg_params(target)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(points) FROM ledger_ledgerentry")
        assert cursor.fetchone() == (4, Decimal("8.50"))
        cursor.execute("SELECT sum(total) FROM grading_publishedbranchscore")
        restored_total = cursor.fetchone()[0]
    conn.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(total) FROM grading_publishedbranchscore")
        assert cursor.fetchone()[0] == restored_total

    originals = _files(Path(settings.MEDIA_ROOT))
    assert any(name.startswith("evidence/") for name in originals)
    assert _files(media) == originals

    # pg_restore brought back the ledger's append-only trigger with the table.
    conn = psycopg2.connect(**_pg_params(target))
    with pytest.raises(psycopg2.Error, match="append-only"), conn.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgerentry SET points = 0")
    conn.close()


def test_restore_refuses_a_database_that_is_not_empty(seeded, tmp_path, settings):
    call_command("backup", dir=str(tmp_path / "b"))
    (directory,) = (tmp_path / "b").iterdir()
    settings.MEDIA_ROOT = tmp_path / "empty-media"
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(directory))


def test_restore_refuses_a_damaged_backup_before_touching_anything(seeded, tmp_path, new_database):
    call_command("backup", dir=str(tmp_path / "b"))
    (directory,) = (tmp_path / "b").iterdir()
    dump = directory / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    target = new_database()
    result = _restore(directory, database=target, media=tmp_path / "m")
    assert result.returncode != 0 and "checksum" in result.stderr
    with psycopg2.connect(**_pg_params(target)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert cursor.fetchone()[0] == 0
    conn.close()
    assert not (tmp_path / "m").exists()


def test_restore_fails_when_the_restored_figures_differ_from_the_manifest(seeded, tmp_path, new_database):
    call_command("backup", dir=str(tmp_path / "b"))
    (directory,) = (tmp_path / "b").iterdir()
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["figures"]["ledger"]["sum"] = "9.50"  # as if a point had been lost
    (directory / "manifest.json").write_text(json.dumps(manifest))
    result = _restore(directory, database=new_database(), media=tmp_path / "m")
    assert result.returncode != 0
    assert "ledger.sum: 9.50 → 8.50" in result.stderr
