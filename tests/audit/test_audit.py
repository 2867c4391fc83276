"""The audit trail: changes are recorded by the database with who, when, from where and
before/after, bulk and raw writes included; only administrators read it; nobody edits it.

Capture needs PostgreSQL's triggers: those tests call ``requires_postgres()``, so CI
(REQUIRE_POSTGRES=1) fails instead of skipping them. The page's access and its SQLite
notice are tested on both databases."""

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from branches.models import BranchTitle, OrgUnit, RoleBinding
from partybuild.audit import context
from partybuild.audit.models import TRACKED
from tests.conftest import requires_postgres

from .. import factories as f

pytestmark = pytest.mark.django_db

Role = RoleBinding.Role


def events(key, **filters):
    return TRACKED[key].event_model.objects.filter(**filters).order_by("pgh_id")


def test_a_change_through_a_page_records_who_when_where_and_before_after(tree, users, login):
    requires_postgres()
    client = login(users.committee)
    before = datetime.datetime.now(datetime.UTC)
    response = client.post(
        reverse("branches:unit_edit", args=[tree.branch_a.pk]),
        {"name": tree.branch_a.name, "brand": "", "brand_description": "", "sort_order": 0, "tier": "exemplary"},
        REMOTE_ADDR="10.20.30.40",
    )
    assert response.status_code == 302
    event = events("org_unit", pgh_obj_id=tree.branch_a.pk, pgh_label="update").get()
    assert event.pgh_diff["tier"] == ["", "exemplary"]
    assert event.pgh_created_at >= before
    assert event.pgh_context.metadata == {
        "user": users.committee.pk,
        "username": "committee",
        "ip": "10.20.30.40",
        "method": "POST",
        "path": reverse("branches:unit_edit", args=[tree.branch_a.pk]),
    }


def test_a_service_call_without_a_request_is_recorded_without_a_person(tree):
    requires_postgres()
    title = BranchTitle.objects.create(branch=tree.branch_a, kind="model_branch", awarded_on=datetime.date(2026, 1, 5))
    inserted = events("branch_title", pgh_obj_id=title.pk).get()
    assert inserted.pgh_label == "insert"
    assert inserted.pgh_diff["kind"] == [None, "model_branch"]
    assert inserted.pgh_context_id is None


def test_a_bulk_update_is_captured_row_by_row(tree, users):
    requires_postgres()
    RoleBinding.objects.filter(role=Role.COMMITTEE_STAFF).update(unit=tree.root)
    changed = events("role_binding", pgh_label="update")
    assert {e.pgh_obj_id for e in changed} == set(
        RoleBinding.objects.filter(role=Role.COMMITTEE_STAFF).values_list("pk", flat=True)
    )
    by_user = {e.user_id: e.pgh_diff for e in changed}
    assert by_user[users.committee.pk] == {"unit_id": [tree.plant.pk, tree.root.pk]}
    assert by_user[users.other_committee.pk] == {"unit_id": [tree.other.pk, tree.root.pk]}


def test_a_raw_sql_update_is_captured_with_its_context(tree):
    requires_postgres()
    import pghistory

    with pghistory.context(username="dba", command="psql"):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE branches_orgunit SET tier = 'red_flag' WHERE id = %s", [tree.branch_b.pk])
    event = events("org_unit", pgh_obj_id=tree.branch_b.pk, pgh_label="update").get()
    assert event.pgh_diff == {"tier": ["", "red_flag"]}
    assert event.pgh_context.metadata == {"username": "dba", "command": "psql"}


def test_a_move_records_the_moved_unit_not_every_rewritten_path(tree):
    requires_postgres()
    # The paths of the subtree change in one UPDATE; they are derived, not a decision.
    OrgUnit.objects.filter(pk=tree.group_a1.pk).update(path="/x/", depth=9)
    assert not events("org_unit", pgh_label="update").exists()


def test_a_users_flags_groups_and_password_are_recorded_without_the_hash(db):
    requires_postgres()
    user = f.UserFactory(username="zhang")
    group = Group.objects.create(name="审计员")
    recorded = events("user", pgh_obj_id=user.pk).count()  # the factory's create and save
    user.is_staff = True
    user.set_password("a-new-secret-password")
    user.save()
    user.groups.add(group)
    update = events("user", pgh_obj_id=user.pk).last()
    assert update.pgh_diff == {"is_staff": [False, True], "password": "hidden"}
    assert not hasattr(update, "password")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'audit_userevent' AND column_name = 'password'"
        )
        assert cursor.fetchone()[0] == 0
    added = events("user_group", pgh_label="insert").get()
    assert added.pgh_diff["group_id"] == [None, group.pk]
    # A login's last_login is no change to record.
    user.last_login = datetime.datetime.now(datetime.UTC)
    user.save(update_fields=["last_login"])
    assert events("user", pgh_obj_id=user.pk).count() == recorded + 1


@pytest.mark.parametrize("statement", ["UPDATE {table} SET pgh_label = 'x'", "DELETE FROM {table}"])
def test_the_database_refuses_to_change_or_delete_an_event(tree, statement):
    requires_postgres()
    OrgUnit.objects.filter(pk=tree.branch_a.pk).update(tier="exemplary")
    table = TRACKED["org_unit"].event_model._meta.db_table
    with pytest.raises(DatabaseError, match="Cannot update or delete"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table))
    assert events("org_unit", pgh_label="update").count() == 1


def test_the_database_refuses_to_delete_or_rewrite_a_context(tree):
    requires_postgres()
    import pghistory

    with pghistory.context(username="secretary", ip="10.0.0.1"):
        OrgUnit.objects.filter(pk=tree.branch_a.pk).update(tier="exemplary")
    for sql in (
        "DELETE FROM pghistory_context",
        "UPDATE pghistory_context SET metadata = jsonb_set(metadata, '{username}', '\"someone else\"')",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    event = events("org_unit", pgh_label="update").get()
    assert event.pgh_context.metadata["username"] == "secretary"


def test_a_celery_task_names_itself_in_the_context(tree):
    requires_postgres()
    task = SimpleNamespace(name="grading.tasks.grade_month")
    context._task_started(task_id="t-1", task=task)
    try:
        OrgUnit.objects.filter(pk=tree.branch_a.pk).update(tier="standard")
    finally:
        context._task_finished(task_id="t-1")
    event = events("org_unit", pgh_label="update").get()
    assert event.pgh_context.metadata == {"task": "grading.tasks.grade_month", "task_id": "t-1"}


def test_a_management_command_names_itself_for_its_whole_session(tree, monkeypatch):
    requires_postgres()
    monkeypatch.setattr("sys.argv", ["manage.py", "shell"])
    context._session_context(sender=None, connection=connection)
    OrgUnit.objects.filter(pk=tree.branch_a.pk).update(tier="standard")
    event = events("org_unit", pgh_label="update").get()
    assert event.pgh_context.metadata == {"command": "shell"}


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["manage.py", "seed_demo"], "seed_demo"),
        (["/srv/manage.py", "shell", "-c", "x"], "shell"),
        (["manage.py", "runserver"], None),
        (["manage.py"], None),
        (["celery", "-A", "partybuild", "worker"], None),
        (["pytest"], None),
    ],
)
def test_which_processes_are_commands(argv, name):
    assert context.command_name(argv) == name


# --- the page --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["secretary", "committee", "other_committee", "nobody"])
def test_anyone_but_an_administrator_gets_404(users, login, who):
    response = login(getattr(users, who)).get(reverse("audit:events"))
    assert response.status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get(reverse("audit:events"))
    assert response.status_code == 302


def test_the_administrators_navigation_links_the_trail(users, login):
    page = login(users.admin).get(reverse("home")).content.decode()
    assert reverse("audit:events") in page
    assert reverse("audit:events") not in login(users.committee).get(reverse("home")).content.decode()


def test_on_sqlite_the_page_says_capture_needs_postgresql(users, login):
    response = login(users.admin).get(reverse("audit:events"))
    assert response.status_code == 200
    shown = 'data-testid="audit-needs-postgres"' in response.content.decode()
    assert shown == (connection.vendor != "postgresql")


def _many_changes(tree, users):
    """Changes of many kinds, made through a request's context."""
    import pghistory

    with pghistory.context(user=users.admin.pk, username="admin", ip="10.9.8.7", path="/x/", method="POST"):
        for tier in ("exemplary", "red_flag", "standard"):
            OrgUnit.objects.filter(pk=tree.branch_a.pk).update(tier=tier)
        RoleBinding.objects.create(user=users.nobody, role=Role.SECRETARY, unit=tree.branch_b)
        BranchTitle.objects.create(branch=tree.branch_b, kind="model_branch", awarded_on=datetime.date(2026, 3, 1))
        users.nobody.groups.add(Group.objects.create(name="g"))
        users.nobody.is_active = False
        users.nobody.save()


def test_the_page_shows_each_change_with_its_fields_before_and_after(tree, users, login):
    requires_postgres()
    _many_changes(tree, users)
    page = login(users.admin).get(reverse("audit:events")).content.decode()
    assert "10.9.8.7" in page and "POST /x/" in page
    assert "红旗" in page or "Red flag" in page
    assert page.index('data-kind="user"') < page.index('data-kind="org_unit"')  # newest first
    assert "pbkdf2" not in page and "md5$" not in page


def test_the_page_filters_by_type_user_object_and_date(tree, users, login):
    requires_postgres()
    _many_changes(tree, users)
    client = login(users.admin)
    url = reverse("audit:events")

    def kinds(**query):
        page = client.get(url, query).content.decode()
        return {k for k in TRACKED if f'data-kind="{k}"' in page}

    assert kinds(kind="org_unit") == {"org_unit"}
    assert kinds(username="admin") >= {"org_unit", "role_binding", "branch_title", "user_group", "user"}
    assert kinds(username="somebody") == set()
    assert kinds(kind="org_unit", object_id=tree.branch_b.pk) == {"org_unit"}  # its creation
    assert kinds(kind="org_unit", object_id=tree.branch_b.pk, username="admin") == set()
    today = datetime.date.today()
    assert "org_unit" in kinds(since=today - datetime.timedelta(days=1), until=today + datetime.timedelta(days=1))
    assert kinds(until="2001-01-01") == set()


def test_the_page_pages_without_counting_the_trail(tree, users, login, settings):
    requires_postgres()
    for i in range(7):
        OrgUnit.objects.filter(pk=tree.branch_a.pk).update(sort_order=i + 1)
    client = login(users.admin)
    from partybuild.audit import selectors

    rows, older = selectors.audit_events(selectors.Filters(kind="org_unit"), page=1, per_page=3)
    assert [r.changes[0].after for r in rows] == ["7", "6", "5"] and older
    rows, older = selectors.audit_events(selectors.Filters(kind="org_unit"), page=3, per_page=3)
    # The 7 updates and the 9 inserts of the tree: 16 rows, so page 3 holds rows 7–9.
    assert len(rows) == 3 and older
    assert client.get(reverse("audit:events"), {"page": "abc"}).status_code == 200


def test_the_page_costs_a_bounded_number_of_queries(tree, users, login, django_assert_max_num_queries):
    requires_postgres()
    _many_changes(tree, users)
    client = login(users.admin)
    client.get(reverse("audit:events"))
    with django_assert_max_num_queries(25):
        response = client.get(reverse("audit:events"))
    assert response.status_code == 200


def test_nobody_edits_the_trail_in_the_admin(tree, users, login):
    requires_postgres()
    OrgUnit.objects.filter(pk=tree.branch_a.pk).update(tier="exemplary")
    superuser = f.UserFactory(username="root", is_superuser=True, is_staff=True)
    client = login(superuser)
    event = events("org_unit", pgh_label="update").get()
    assert client.get("/admin/audit/orgunitevent/").status_code == 200
    assert client.get(f"/admin/audit/orgunitevent/{event.pk}/change/").status_code == 200
    response = client.post(f"/admin/audit/orgunitevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert client.get("/admin/audit/orgunitevent/add/").status_code == 403
