"""Data versions (branches/dataversion.py) and the pages kept under them: the home
page's content and the board of those who manage the grading. A write — through a
service, the ORM or raw SQL — shows on the next view; a viewer never reads another's
kept content; a cache that is down is a miss."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from branches import dataversion
from branches.activities import services as activity_services
from branches.grading import services
from members.models import Member

from . import factories as f

pytestmark = pytest.mark.usefixtures("empty_cache")


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


def test_a_statement_names_the_tables_it_writes():
    assert dataversion.written_tables('INSERT INTO "members_member" ("name") VALUES (%s)') == {"members_member"}
    assert dataversion.written_tables('UPDATE "members_member" SET "name" = %s') == {"members_member"}
    assert dataversion.written_tables("DELETE FROM activities_attendance WHERE id = 1") == {"activities_attendance"}
    upsert = (
        "WITH x AS (SELECT 1) INSERT INTO grading_branchscore AS s (a) SELECT 1 ON CONFLICT (a) DO UPDATE SET a = 1"
    )
    assert dataversion.written_tables(upsert) == {"grading_branchscore"}
    # The ledger's month totals are written by a trigger on its entries.
    assert dataversion.written_tables("INSERT INTO ledger_ledgerentry (a) VALUES (1)") == {
        "ledger_ledgerentry",
        "ledger_membermonthpoints",
    }
    assert dataversion.written_tables('SELECT * FROM "members_member" FOR UPDATE') == set()
    assert dataversion.written_tables("SAVEPOINT s1") == set()


@pytest.mark.django_db
def test_a_connection_made_inside_another_wrappers_block_keeps_both_in_order():
    def other(execute, sql, params, many, context):
        return execute(sql, params, many, context)

    connection.execute_wrappers.remove(dataversion.track_writes)
    with connection.execute_wrapper(other):
        dataversion.install(connection=connection)  # as when a request's context opens the connection
    assert connection.execute_wrappers == [dataversion.track_writes]


@pytest.mark.django_db
def test_a_write_in_a_test_transaction_bumps_at_once(tree):
    before = dataversion.versions(["members_member"])["members_member"]
    f.MemberFactory(branch=tree.branch_a)
    assert dataversion.versions(["members_member"])["members_member"] != before


@pytest.mark.django_db(transaction=True)
def test_a_write_bumps_when_its_transaction_commits_and_not_when_it_rolls_back(tree):
    def version():
        return dataversion.versions(["members_member"])["members_member"]

    first = version()
    with transaction.atomic():
        f.MemberFactory(branch=tree.branch_a)
        assert version() == first  # not yet committed: another reader still sees the old rows
    committed = version()
    assert committed != first
    with pytest.raises(RuntimeError), transaction.atomic():
        f.MemberFactory(branch=tree.branch_a)
        raise RuntimeError
    assert version() == committed


@pytest.mark.django_db
def test_a_value_is_kept_until_a_table_it_read_is_written(tree):
    calls = []

    def compute():
        calls.append(1)
        return list(Member.objects.values_list("name", flat=True))

    f.MemberFactory(branch=tree.branch_a, name="甲")
    assert dataversion.cached("t", ["x"], compute) == ["甲"]
    assert dataversion.cached("t", ["x"], compute) == ["甲"] and len(calls) == 1
    with connection.cursor() as cursor:  # raw SQL, as an import would
        cursor.execute("UPDATE members_member SET name = %s", ["乙"])
    assert dataversion.cached("t", ["x"], compute) == ["乙"] and len(calls) == 2


@pytest.mark.django_db
def test_a_cache_that_is_down_is_a_miss(tree):
    calls = []

    def compute():
        calls.append(1)
        return Member.objects.count()

    with mock.patch.object(cache, "get_many", return_value={}), mock.patch.object(cache, "add", return_value=False):
        dataversion.cached("t", ["down"], compute)
        dataversion.cached("t", ["down"], compute)
    assert len(calls) == 2


@pytest.mark.django_db
def test_a_bump_the_cache_refused_is_owed_and_reads_are_misses_until_it_is_made(tree):
    calls = []

    def compute():
        calls.append(1)
        return Member.objects.count()

    dataversion.cached("t", ["owed"], compute)
    with (
        mock.patch.object(cache, "incr", side_effect=ValueError),
        mock.patch.object(cache, "add", return_value=False),
        mock.patch.object(cache, "get", return_value=None),
        mock.patch.object(dataversion, "_retry_later") as retry,
    ):
        f.MemberFactory(branch=tree.branch_a)
        assert dataversion.versions(["members_member"]) is None  # the bump failed: owed, and no version
    assert retry.called and "members_member" in dataversion._owed
    assert dataversion.cached("t", ["owed"], compute) == 1  # paid on this read: computed again
    assert dataversion._owed == set() and len(calls) == 2
    assert dataversion.cached("t", ["owed"], compute) == 1 and len(calls) == 2


@pytest.mark.django_db
def test_a_lost_version_is_a_miss(tree):
    calls = []

    def compute():
        calls.append(1)
        return Member.objects.count()

    dataversion.cached("t", ["lost"], compute)
    cache.delete(dataversion._key("members_member"))  # evicted, or Redis restarted
    dataversion.cached("t", ["lost"], compute)
    assert len(calls) == 2


# --- the home page ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_secretary_home_is_read_from_the_cache_the_second_time(tree, users, login, django_assert_max_num_queries):
    client = login(users.secretary)
    client.get(reverse("home"))
    with django_assert_max_num_queries(8):  # session, user, scope, navigation, the bell
        html = client.get(reverse("home")).content.decode()
    assert f'id="workbench-branch-{tree.branch_a.pk}"' in html and 'id="forecast-how"' in html


@pytest.mark.django_db
def test_a_member_added_shows_on_the_secretary_home_at_once(tree, users, login):
    client = login(users.secretary)
    day = timezone.localdate().replace(year=timezone.localdate().year - 10, day=min(timezone.localdate().day, 28))
    assert "新生日" not in client.get(reverse("home")).content.decode()
    f.MemberFactory(branch=tree.branch_a, name="新生日", joined_on=day, converted_on=day.replace(year=day.year + 1))
    assert "新生日" in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_an_activity_logged_through_the_service_shows_on_the_secretary_home_at_once(tree, users, login):
    client = login(users.secretary)
    html = client.get(reverse("home")).content.decode()
    assert html.count("wb-held") == 0
    activity_services.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=timezone.localdate(), user=None
    )
    assert client.get(reverse("home")).content.decode().count("wb-held") == 1


@pytest.mark.django_db
def test_two_secretaries_never_read_each_others_home(tree, users, login):
    f.MemberFactory(branch=tree.branch_a, name="本支部人")
    mine = login(users.secretary).get(reverse("home")).content.decode()
    other = login(users.other_secretary).get(reverse("home")).content.decode()
    assert f"workbench-branch-{tree.branch_a.pk}" in mine
    assert f"workbench-branch-{tree.branch_a.pk}" not in other
    # Read again, from the cache: still each their own.
    assert (
        f"workbench-branch-{tree.branch_a.pk}" not in login(users.other_secretary).get(reverse("home")).content.decode()
    )


@pytest.mark.django_db
def test_a_score_entered_shows_on_the_committee_home_at_once(tree, users, login):
    month = timezone.localdate().replace(day=1)
    f.MemberFactory(branch=tree.branch_a)
    client = login(users.committee)

    def missing():
        html = client.get(reverse("home")).content.decode()
        row = html[html.index(f'data-month="{month:%Y-%m}"') :]
        return row[: row.index("</tr>")]

    before = missing()
    services.score_input_set(branch=tree.branch_a, month=month, dimension="production", score=Decimal(80), user=None)
    assert missing() != before


@pytest.mark.django_db
def test_a_role_taken_away_shows_at_once(tree, users, login):
    from branches.models import RoleBinding

    client = login(users.committee)
    assert f"workbench-committee-{tree.plant.pk}" in client.get(reverse("home")).content.decode()
    RoleBinding.objects.filter(user=users.committee).delete()
    assert f"workbench-committee-{tree.plant.pk}" not in client.get(reverse("home")).content.decode()


# --- the board of those who manage the grading ---------------------------------------


@pytest.mark.django_db
def test_the_draft_board_shows_new_inputs_as_stale_at_once(tree, users, login, django_assert_max_num_queries):
    month = datetime.date(2025, 4, 1)
    f.MemberFactory(branch=tree.branch_a)
    for branch in (tree.branch_a, tree.branch_b):
        for dimension in ("committee_work", "production", "other"):
            services.score_input_set(branch=branch, month=month, dimension=dimension, score=Decimal(80), user=None)
    services.grading_run_execute(run_id=services.grading_run_request(committee=tree.plant, month=month).pk)
    client = login(users.committee)
    url = reverse("grading:board", args=[tree.plant.pk, 2025, 4]) + "?draft=1"
    assert 'data-step="publish" data-state="current"' in client.get(url).content.decode()
    with django_assert_max_num_queries(8):  # kept: no draft status, no watermark
        assert 'data-step="publish" data-state="current"' in client.get(url).content.decode()
    activity_services.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=datetime.date(2025, 4, 21), user=None
    )
    html = client.get(url).content.decode()
    assert 'data-step="run" data-state="current"' in html  # the draft is stale now


@pytest.mark.django_db
def test_an_outsider_still_gets_404_on_a_kept_draft_board(tree, users, login):
    url = reverse("grading:board", args=[tree.plant.pk, 2025, 4]) + "?draft=1"
    assert login(users.committee).get(url).status_code == 200
    assert login(users.other_committee).get(url).status_code == 404
