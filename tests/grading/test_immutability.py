"""What graded or published a month cannot be rewritten: the published score tables are
append-only, and a rule set version used by a grading run keeps its numbers (weights,
star bands, grade limits, rules) — in the admin, in the services and in the database."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from branches.grading import annual, services
from branches.grading.models import Publication, PublishedBranchScore, PublishedMemberScore
from branches.grading.publishing import board_publish
from members.ledger.models import Rule, RuleSetVersion
from members.ledger.rule_services import rule_set_version_note_set
from members.ledger.services import rule_version_for

from .. import factories as f
from ..conftest import requires_postgres

pytestmark = pytest.mark.django_db
APRIL = datetime.date(2025, 4, 1)


@pytest.fixture
def published(tree, users, member_a):
    for branch in (tree.branch_a, tree.branch_b):
        for dimension in ("committee_work", "production", "other"):
            services.score_input_set(branch=branch, month=APRIL, dimension=dimension, score=Decimal("80"), user=None)
    run = services.grading_run_request(committee=tree.plant, month=APRIL)
    services.grading_run_execute(run_id=run.pk)
    return board_publish(committee=tree.plant, month=APRIL, user=users.committee, note="")


def refused(statement) -> DatabaseError:
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        statement()
    return excinfo.value


def sql(statement: str, params=()):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(statement, params)

    return run


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE grading_publishedbranchscore SET total = 100",
        "DELETE FROM grading_publishedbranchscore",
        "UPDATE grading_publishedmemberscore SET total = 100",
        "DELETE FROM grading_publishedmemberscore",
        "UPDATE grading_publication SET version = 9",
        "DELETE FROM grading_publication",
    ],
)
def test_published_rows_refuse_update_and_delete(published, statement):
    requires_postgres()
    totals = sorted(PublishedBranchScore.objects.values_list("total", flat=True))
    error = refused(sql(statement))
    assert "append-only" in str(error)
    assert sorted(PublishedBranchScore.objects.values_list("total", flat=True)) == totals
    assert Publication.objects.get().version == 1 and PublishedMemberScore.objects.count() == 1


def test_the_orm_cannot_rewrite_a_published_score_either(published):
    requires_postgres()
    row = PublishedBranchScore.objects.first()
    row.total = Decimal("100")
    refused(row.save)
    refused(lambda: PublishedBranchScore.objects.all().delete())
    assert PublishedBranchScore.objects.filter(total=Decimal("100")).count() == 0


def test_a_publisher_who_is_deleted_leaves_the_publication_intact(published, users):
    users.committee.delete()
    publication = Publication.objects.get()
    assert publication.published_by is None and publication.version == 1


@pytest.fixture
def graded_version(published, tree):
    return rule_version_for(unit=tree.plant, month=APRIL)


def test_a_graded_version_refuses_new_weights_in_the_database(graded_version):
    requires_postgres()
    error = refused(sql("UPDATE ledger_rulesetversion SET grade_advanced_from = 0 WHERE id = %s", [graded_version.pk]))
    assert "only its note may change" in str(error)
    graded_version.weight_basics = Decimal("90")
    refused(graded_version.save)
    rule = Rule.objects.filter(version=graded_version).first()
    rule.points_max = Decimal("9")
    assert "new version" in str(refused(rule.save))
    graded_version.refresh_from_db()
    assert (graded_version.weight_basics, graded_version.grade_advanced_from) == (Decimal("30"), Decimal("90"))


def test_a_version_nobody_graded_with_is_not_frozen_by_the_database(tree):
    requires_postgres()
    version = rule_version_for(unit=tree.plant, month=APRIL)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_rulesetversion SET note = 'x', weight_other = 10 WHERE id = %s", [version.pk])
    assert RuleSetVersion.objects.get(pk=version.pk).note == "x"


def test_the_note_of_a_graded_version_may_change(graded_version):
    rule_set_version_note_set(version=graded_version, note="  2025年修订说明 ")
    graded_version.refresh_from_db()
    assert graded_version.note == "2025年修订说明"


def test_the_admin_shows_a_versions_numbers_read_only_and_saves_only_the_note(graded_version, tree, client):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:ledger_rulesetversion_change", args=[graded_version.pk])
    page = client.get(url).content.decode()
    assert 'name="note"' in page and 'name="weight_basics"' not in page and 'name="grade_advanced_from"' not in page
    # The rules inline is read-only, but its management form still has to come back.
    prefix = re.search(r'name="([\w-]+)-TOTAL_FORMS"', page).group(1)
    total = Rule.objects.filter(version=graded_version).count()
    inline = {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": total, f"{prefix}-MAX_NUM_FORMS": total}
    inline |= {
        f"{prefix}-{i}-id": pk
        for i, pk in enumerate(Rule.objects.filter(version=graded_version).order_by("pk").values_list("pk", flat=True))
    }
    response = client.post(
        url,
        {"note": "备注", "weight_basics": "0", "grade_advanced_from": "0", "grade_standard_from": "0"} | inline,
    )
    assert response.status_code == 302
    graded_version.refresh_from_db()
    assert graded_version.note == "备注"
    assert (graded_version.weight_basics, graded_version.grade_advanced_from) == (Decimal("30"), Decimal("90"))
    # The roll-up still grades by the version's own limits.
    grades = annual.annual_rollup(committee=tree.plant, year=2025, user=None)
    assert all(g.proposed_grade != "advanced" for g in grades if g.mean_total < Decimal("90"))


def test_a_graded_versions_requirements_and_items_are_frozen_with_it(graded_version):
    from members.ledger.models import MeetingRequirement, ScoreItem

    requires_postgres()
    requirement = MeetingRequirement.objects.filter(version=graded_version).first()
    requirement.per_group = not requirement.per_group
    assert "graded a month" in str(refused(requirement.save))
    refused(lambda: MeetingRequirement.objects.filter(version=graded_version).delete())
    refused(
        lambda: ScoreItem.objects.create(
            version=graded_version, dimension="committee_work", code="x", name="班子团结", max_score=Decimal("50")
        )
    )
    assert MeetingRequirement.objects.filter(version=graded_version).count() == 7


def test_published_group_scores_are_append_only(db):
    requires_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'grading_publishedgroupscore'::regclass AND NOT tgisinternal"
        )
        assert [row[0] for row in cursor.fetchall()] == ["grading_publishedgroupscore_append_only"]
