"""Shared fixtures: a small tree with owners, members and outsiders at several levels.

    GROUP committee (root)
    ├── PLANT committee ──── BRANCH_A (groups A1, A2) ── members
    │                   └─── BRANCH_B
    └── OTHER committee ──── BRANCH_X ── members

``secretary`` owns BRANCH_A; ``committee_user`` is staff of PLANT; ``admin`` sees all;
``other_secretary`` (BRANCH_X) and ``other_committee`` (OTHER) are the outsiders.
"""

import os
from types import SimpleNamespace

import pytest
from django.db import connection

from branches.models import RoleBinding

from . import factories as f

Role = RoleBinding.Role


@pytest.fixture
def empty_cache():
    """The cache emptied before and after the test: pages cached under data versions
    (boards, navigation, forecasts) start and leave nothing behind."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tree(db):
    root = f.committee(name="集团党委", code="GROUP")
    plant = f.committee(name="炼钢厂党委", code="PLANT", parent=root)
    other = f.committee(name="热轧厂党委", code="OTHER", parent=root)
    branch_a = f.branch(plant, name="连铸作业区党支部", code="BRA")
    branch_b = f.branch(plant, name="设备党支部", code="BRB")
    branch_x = f.branch(other, name="热轧党支部", code="BRX")
    group_a1 = f.group(branch_a, name="第一党小组", code="A1")
    group_a2 = f.group(branch_a, name="第二党小组", code="A2")
    group_x1 = f.group(branch_x, name="第一党小组", code="X1")
    return SimpleNamespace(
        root=root,
        plant=plant,
        other=other,
        branch_a=branch_a,
        branch_b=branch_b,
        branch_x=branch_x,
        group_a1=group_a1,
        group_a2=group_a2,
        group_x1=group_x1,
    )


@pytest.fixture
def users(tree):
    return SimpleNamespace(
        secretary=f.user_with_role(Role.SECRETARY, tree.branch_a, username="secretary"),
        committee=f.user_with_role(Role.COMMITTEE_STAFF, tree.plant, username="committee"),
        admin=f.user_with_role(Role.ADMIN, None, username="admin"),
        other_secretary=f.user_with_role(Role.SECRETARY, tree.branch_x, username="other_secretary"),
        other_committee=f.user_with_role(Role.COMMITTEE_STAFF, tree.other, username="other_committee"),
        nobody=f.UserFactory(username="nobody"),
    )


@pytest.fixture
def member_a(tree):
    return f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name="王建国")


@pytest.fixture
def member_x(tree):
    return f.MemberFactory(branch=tree.branch_x, group=tree.group_x1, name="李红梅")


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def requires_postgres():
    """Skip on SQLite unless REQUIRE_POSTGRES=1, where the skip becomes a failure."""
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but the test database is not PostgreSQL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(autouse=True)
def _temporary_media_root(settings, tmp_path):
    """Uploaded files (attachments, evidence, reports, imports) go to a directory of the
    test's own, never into the repository's ``media/``."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for production; the suite creates many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_rule_set(request):
    """Flushing tests (transactional, browser) remove what data migrations installed;
    every database test starts with the default rule set in place."""
    if not {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    ) and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
    from django.apps import apps

    from members.ledger.defaults import install_default_rules
    from members.ledger.models import RuleSet

    if not RuleSet.objects.filter(committee__isnull=True).exists():
        install_default_rules(apps)


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    )


@pytest.fixture
def celery_eager():
    """Run tasks in-process for this test even where CI has a broker (REDIS_URL): the
    tests that need a real worker say so (tests/celery_worker.py)."""
    from partybuild.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def pytest_collection_finish(session):
    """Refuse to run when ``--dist loadgroup`` is asked for but does not group.

    The tests that start a Celery worker rely on running one at a time in one process
    (``xdist_group``). pytest-xdist marks the group by rewriting the test's node id, which
    pytest 9.2's structured node ids silently ignore (pytest-xdist#1386): the tests were
    then spread over both processes, two workers took each other's tasks and CI failed
    far from the cause. Fail at collection instead."""
    config = session.config
    if not os.environ.get("PYTEST_XDIST_WORKER") or not config.getvalue("loadgroup"):
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup does not group here (pytest-xdist#1386 on this pytest); first ungrouped test: {lost[0]}"
        )
