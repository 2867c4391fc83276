"""Shared fixtures: a small tree with owners, members and outsiders at several levels.

    GROUP committee (root)
    ├── PLANT committee ──── BRANCH_A (groups A1, A2) ── members
    │                   └─── BRANCH_B
    └── OTHER committee ──── BRANCH_X ── members

``secretary`` owns BRANCH_A; ``committee_user`` is staff of PLANT; ``admin`` sees all;
``other_secretary`` (BRANCH_X) and ``other_committee`` (OTHER) are the outsiders.
"""

import fcntl
import os
import time
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection

from branches.models import RoleBinding

from . import factories as f

Role = RoleBinding.Role


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
    tmp_path_factory,
):
    """pytest-django's test database setup, except that on PostgreSQL under pytest-xdist
    the migrations run once per run, into a template database, which each process
    clones (``CREATE DATABASE … TEMPLATE``, seconds) instead of migrating its own: the
    migrations (triggers and all) take one to two minutes a process on the 2-core
    machine. Reusing a database (``--reuse-db`` without ``--create-db``) is unchanged."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    keepdb = django_db_keepdb and not django_db_createdb
    if not django_db_use_migrations:
        _disable_migrations()
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        if worker and connection.vendor == "postgresql" and aliases == {"default"} and django_db_use_migrations:
            shared = tmp_path_factory.getbasetemp().parent  # one directory for the run's processes
            db_cfg = _clone_template_database(worker, shared, keepdb=keepdb, verbosity=verbosity)
            if "default" in serialized_aliases:
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()
        else:
            db_cfg = setup_databases(
                verbosity=verbosity,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                keepdb=keepdb,
            )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=verbosity)


def _clone_template_database(worker: str, shared, *, keepdb: bool, verbosity: int):
    """Point the connection at this process's test database, a clone of the run's
    template (migrated by whichever process gets here first); the old config for
    ``teardown_databases``."""
    from django.conf import settings

    creation = connection.creation
    qn = connection.ops.quote_name
    old_name = connection.settings_dict["NAME"]
    name = creation._get_test_db_name()  # test_<db>_gwN (pytest-django's xdist suffix)
    if keepdb:
        with creation._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
        if exists:  # reused as before: migrate applies what is new
            creation.create_test_db(verbosity=verbosity, autoclobber=True, keepdb=True, serialize=False)
            return [(connection, old_name, True)]
    template = name.removesuffix(f"_{worker}") + "_template"
    with open(shared / "template-db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other processes wait while one migrates
        built = shared / "template-db.built"
        if not built.exists():
            connection.settings_dict["TEST"]["NAME"] = template
            try:
                creation.create_test_db(verbosity=verbosity, autoclobber=True, keepdb=keepdb, serialize=False)
            finally:
                connection.settings_dict["TEST"]["NAME"] = name
            connection.close()  # a template cannot be copied while anyone is connected to it
            built.touch()
        for attempt in range(10):
            try:
                with creation._nodb_cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS {qn(name)}")
                    cursor.execute(f"CREATE DATABASE {qn(name)} WITH TEMPLATE {qn(template)}")
                break
            except OperationalError:  # "being accessed by other users": autovacuum, briefly
                if attempt == 9:
                    raise
                time.sleep(1)
    connection.close()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    return [(connection, old_name, True)]


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


# The longest single tests (measured with --durations on PostgreSQL), moved to the front.
# pytest-xdist (--dist loadgroup) starts the groups first, largest first, then hands out
# the other tests in collection order, two at a time: a run that reached these last
# left the other process idle for minutes while one of them finished.
START_FIRST = (
    "tests/test_csp.py::test_no_page_of_any_app_holds_inline_scripts_handlers_or_styles",
    "tests/test_crawl.py::test_every_link_a_page_shows_opens_for_each_role",
    "tests/views/test_url_params.py::test_no_parameter_makes_a_page_fail",
    "tests/test_seed_demo.py::test_seeding_twice_is_refused_and_reset_clears_the_ledger_too",
    "tests/grading/test_month_points.py::test_regrades_after_any_changes_write_what_a_first_grading_writes",
)


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        return next((i for i, prefix in enumerate(START_FIRST) if item.nodeid.startswith(prefix)), len(START_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order


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
