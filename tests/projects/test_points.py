"""Points of a project: a milestone accepted posts once, a withdrawal reverses exactly
that milestone's entries once; the grade and the value bands post once; closed months
refuse naming the month; the cap holds and who was passed over is said."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from branches.projects import services
from branches.services import month_close
from members.ledger.models import LedgerEntry, Rule, Source
from members.ledger.services import rule_version_for

pytestmark = pytest.mark.django_db


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def standing(project, key=None) -> dict[str, Decimal]:
    """Points each member stands at from the project (or one of its steps)."""
    rows = LedgerEntry.objects.filter(source=Source.PROJECT, source_id=project.pk)
    if key:
        rows = rows.filter(source_key=key) | rows.filter(reverses__source_key=key)
    return {r["member__name"]: r["total"] for r in rows.values("member__name").annotate(total=Sum("points"))}


def test_an_accepted_milestone_posts_to_the_leader_and_the_team_once(project, milestone, users):
    posting = services.milestone_accept(milestone=milestone, user=users.committee)
    assert sorted(e.member.name for e in posting.entries) == ["张志强", "王建国"]
    assert posting.skipped == []
    entries = LedgerEntry.objects.filter(source=Source.PROJECT, source_id=project.pk)
    assert entries.count() == 2
    assert {e.source_key for e in entries} == {f"milestone:{milestone.pk}"}
    assert {e.rule.code for e in entries} == {"project_milestone"}
    assert {e.points for e in entries} == {Decimal("3")}
    assert {e.month for e in entries} == {this_month()}
    with pytest.raises(ValidationError, match="Accept the milestone is not possible now: the record is Accepted"):
        services.milestone_accept(milestone=milestone, user=users.committee)
    assert entries.count() == 2


def test_withdrawing_an_acceptance_reverses_exactly_that_milestone_once(project, milestone, users):
    other = services.milestone_add(project=project, title="推广应用", due_on=timezone.localdate())
    services.milestone_accept(milestone=milestone, user=users.committee)
    services.milestone_accept(milestone=other, user=users.committee)
    reversed_count = services.milestone_withdraw(milestone=milestone, user=users.committee, reason="验收资料不全")
    assert reversed_count == 2
    assert standing(project) == {"王建国": Decimal("3"), "张志强": Decimal("3")}  # the other milestone's
    reversals = LedgerEntry.objects.filter(source=Source.PROJECT, source_id=project.pk, reverses__isnull=False)
    assert {r.reverses.source_key for r in reversals} == {f"milestone:{milestone.pk}"}
    milestone.refresh_from_db()
    assert milestone.state == "pending" and milestone.accepted_at is None
    with pytest.raises(ValidationError, match="Withdraw the acceptance is not possible now"):
        services.milestone_withdraw(milestone=milestone, user=users.committee, reason="再来一次")
    assert reversals.count() == 2
    # Accepted again, it posts again — and stands once.
    services.milestone_accept(milestone=milestone, user=users.committee)
    assert standing(project) == {"王建国": Decimal("6"), "张志强": Decimal("6")}


def test_the_monthly_cap_holds_and_the_skipped_are_named(project, users):
    milestones = [
        services.milestone_add(project=project, title=f"节点{i}", due_on=timezone.localdate()) for i in range(4)
    ]
    postings = [services.milestone_accept(milestone=m, user=users.committee) for m in milestones]
    assert standing(project) == {"王建国": Decimal("9"), "张志强": Decimal("9")}  # capped at 9 a month
    assert [member.name for member, _why in postings[3].skipped] == ["王建国", "张志强"]
    assert "cap" in postings[3].skipped[0][1]


def test_a_member_whose_rules_lack_the_rule_is_reported(project, milestone, users, tree):
    version = rule_version_for(unit=tree.branch_a, month=this_month())
    Rule.objects.filter(version=version, code="project_milestone").delete()
    posting = services.milestone_accept(milestone=milestone, user=users.committee)
    assert posting.entries == []
    assert {m.name for m, _why in posting.skipped} == {"王建国", "张志强"}
    assert "not in the rules in force" in posting.skipped[0][1]


def test_a_closed_month_refuses_the_acceptance_naming_the_month(project, milestone, users, tree):
    month_close(committee=tree.plant, month=this_month())
    with pytest.raises(ValidationError) as exc:
        services.milestone_accept(milestone=milestone, user=users.committee)
    label = f"{this_month():%B} {this_month().year}"
    assert label in exc.value.messages[0] and "closed" in exc.value.messages[0]
    milestone.refresh_from_db()
    assert milestone.state == "pending"  # the move is undone with the posting


def test_a_closed_month_refuses_the_withdrawal_naming_the_month(project, milestone, users, tree):
    services.milestone_accept(milestone=milestone, user=users.committee)
    month_close(committee=tree.plant, month=this_month())
    with pytest.raises(ValidationError, match=f"{this_month():%B} {this_month().year} is closed"):
        services.milestone_withdraw(milestone=milestone, user=users.committee, reason="撤回")
    milestone.refresh_from_db()
    assert milestone.state == "accepted"


def test_the_grade_posts_its_rule_once_and_withdrawing_it_reverses_it(project, users):
    services.project_conclude(project=project, user=users.secretary, results="完成")
    posting = services.project_evaluate(project=project, user=users.committee, grade=2)
    assert {(e.member.name, e.rule.code, e.points, e.source_key) for e in posting.entries} == {
        ("王建国", "project_grade_2", Decimal("6"), "grade"),
        ("张志强", "project_grade_2", Decimal("6"), "grade"),
    }
    with pytest.raises(ValidationError, match="Evaluate is not possible now"):
        services.project_evaluate(project=project, user=users.committee, grade=1)
    assert services.project_evaluation_withdraw(project=project, user=users.committee, reason="复核") == 2
    assert standing(project) == {"王建国": Decimal("0"), "张志强": Decimal("0")}
    services.project_evaluate(project=project, user=users.committee, grade=1)
    assert standing(project) == {"王建国": Decimal("10"), "张志强": Decimal("10")}


def test_value_bands_post_once_each_as_the_total_crosses_them(project, users):
    month = this_month()
    earlier = (month - datetime.timedelta(days=1)).replace(day=1)
    first = (earlier - datetime.timedelta(days=1)).replace(day=1)
    _record, postings = services.value_record_add(
        project=project, month=first, amount=Decimal("8"), user=users.secretary
    )
    assert postings == []
    _record, postings = services.value_record_add(
        project=project, month=earlier, amount=Decimal("45"), user=users.secretary
    )
    # 53 万元: the 10 and the 50 band at once, in the record's month.
    assert sorted({e.rule.code for p in postings for e in p.entries}) == ["project_value_10", "project_value_50"]
    assert {e.month for p in postings for e in p.entries} == {earlier}
    _record, postings = services.value_record_add(
        project=project, month=month, amount=Decimal("1"), user=users.secretary
    )
    assert postings == []  # no band crossed again
    keys = LedgerEntry.objects.filter(source=Source.PROJECT, source_id=project.pk).values_list("source_key", flat=True)
    assert sorted(keys) == ["value:project_value_10"] * 2 + ["value:project_value_50"] * 2
    assert standing(project) == {"王建国": Decimal("7"), "张志强": Decimal("7")}


def test_value_in_a_closed_month_is_refused_naming_the_month(project, users, tree):
    month = this_month()
    month_close(committee=tree.plant, month=month)
    with pytest.raises(ValidationError, match=f"{month:%B} {month.year} is closed"):
        services.value_record_add(project=project, month=month, amount=Decimal("120"), user=users.secretary)
    assert not project.value_records.exists()


def test_a_month_is_recorded_once(project, users):
    services.value_record_add(project=project, month=this_month(), amount=Decimal("1"), user=users.secretary)
    with pytest.raises(ValidationError, match="already recorded"):
        services.value_record_add(project=project, month=this_month(), amount=Decimal("2"), user=users.secretary)


def test_a_new_rule_version_keeps_the_value_bands(project, users, tree):
    """A committee's own version (copied from the default) still posts the bands."""
    from members.ledger.rule_services import rule_set_version_create

    version = rule_set_version_create(
        rule_set=None, committee=tree.plant, effective_month=this_month(), note="本厂细则", user=None
    )
    assert version.rules.get(code="project_value_50").threshold == Decimal("50")
