"""Writing the ledger by hand: reversal semantics, manual awards and deductions within
the rules, caps, and rule-set versions that never change a past month."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.utils import translation

from branches.activities import services as activity_services
from branches.services import month_close, month_reopen
from members.ledger.models import LedgerEntry, Rule, RuleSetVersion
from members.ledger.services import ledger_entry_record, ledger_entry_reverse, rule_version_for

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2025, 3, 1)
APRIL = datetime.date(2025, 4, 1)
JUNE = datetime.date(2025, 6, 1)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"


@pytest.fixture(autouse=True)
def _english():
    # The assertions below read the services' messages in their English source form.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def rule(code: str, unit, month=MARCH) -> Rule:
    return rule_version_for(unit=unit, month=month).rules.get(code=code)


def record(member, code, points, *, month=MARCH, reason="支部会议决定", user=None, evidence=None) -> LedgerEntry:
    return ledger_entry_record(
        member=member,
        rule=rule(code, member.branch, month),
        month=month,
        points=Decimal(points),
        reason=reason,
        user=user,
        evidence=evidence,
    )


def total(member, **filters) -> Decimal:
    return LedgerEntry.objects.filter(member=member, **filters).aggregate(t=Sum("points"))["t"] or Decimal("0")


def errors_of(excinfo) -> str:
    return " ".join(excinfo.value.messages)


# Reversals


def test_a_reversal_negates_the_points_and_keeps_member_month_rule_category_and_source(member_a, users):
    original = record(member_a, "deduction", "-4", user=users.secretary)
    reversal = ledger_entry_reverse(entry=original, reason="录入错误", user=users.secretary)
    assert reversal.points == Decimal("4.00")
    assert reversal.reverses == original
    assert (reversal.member, reversal.branch, reversal.month, reversal.rule, reversal.rule_version) == (
        original.member,
        original.branch,
        original.month,
        original.rule,
        original.rule_version,
    )
    assert (reversal.category, reversal.source, reversal.reason) == (original.category, original.source, "录入错误")
    assert total(member_a) == 0
    # The original stays as it was: a reversal adds, it never edits.
    original.refresh_from_db()
    assert original.points == Decimal("-4.00") and original.reason == "支部会议决定"


def test_an_entry_cannot_be_reversed_twice(member_a):
    original = record(member_a, "deduction", "-2")
    ledger_entry_reverse(entry=original, reason="录入错误", user=None)
    with pytest.raises(ValidationError, match="already been reversed"):
        ledger_entry_reverse(entry=original, reason="再次更正", user=None)
    assert LedgerEntry.objects.count() == 2


def test_a_reversal_cannot_itself_be_reversed(member_a):
    reversal = ledger_entry_reverse(entry=record(member_a, "deduction", "-2"), reason="录入错误", user=None)
    with pytest.raises(ValidationError, match="cannot itself be reversed"):
        ledger_entry_reverse(entry=reversal, reason="撤销更正", user=None)
    assert LedgerEntry.objects.count() == 2


def test_a_reversal_needs_a_reason(member_a):
    original = record(member_a, "deduction", "-2")
    with pytest.raises(ValidationError) as excinfo:
        ledger_entry_reverse(entry=original, reason="   ", user=None)
    assert "reason" in excinfo.value.error_dict
    assert LedgerEntry.objects.count() == 1


def test_reversing_in_a_closed_month_is_refused_naming_the_month_and_allowed_once_reopened(tree, member_a, users):
    original = record(member_a, "deduction", "-2")
    month_close(committee=tree.plant, month=MARCH, user=users.committee)
    with pytest.raises(ValidationError, match="March 2025"):
        ledger_entry_reverse(entry=original, reason="录入错误", user=users.secretary)
    with pytest.raises(ValidationError, match="March 2025"):
        record(member_a, "deduction", "-1")
    assert LedgerEntry.objects.count() == 1
    month_reopen(committee=tree.plant, month=MARCH, reason="更正扣分", user=users.committee)
    ledger_entry_reverse(entry=original, reason="录入错误", user=users.secretary)
    assert total(member_a) == 0


def test_attendance_entries_cannot_be_reversed_by_hand_only_by_changing_the_attendance(tree, member_a):
    activity_services.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=datetime.date(2025, 3, 20), user=None
    )
    entry = LedgerEntry.objects.get(member=member_a)
    with pytest.raises(ValidationError, match="attendance"):
        ledger_entry_reverse(entry=entry, reason="未实际参加", user=None)
    assert LedgerEntry.objects.count() == 1


# Manual awards and deductions


@pytest.mark.parametrize(("code", "points"), [("deduction", "-11"), ("deduction", "0"), ("exemplary_award", "11")])
def test_manual_points_must_lie_within_the_rules_range(member_a, code, points):
    evidence = SimpleUploadedFile("award.pdf", PDF, content_type="application/pdf")
    with pytest.raises(ValidationError) as excinfo:
        record(member_a, code, points, evidence=evidence)
    assert "points" in excinfo.value.error_dict
    assert not LedgerEntry.objects.exists()


def test_points_at_the_ends_of_the_range_are_accepted(member_a):
    record(member_a, "deduction", "-10")
    record(member_a, "deduction", "-1")
    assert total(member_a) == Decimal("-11.00")


def test_a_manual_entry_needs_a_reason(member_a):
    with pytest.raises(ValidationError) as excinfo:
        record(member_a, "deduction", "-2", reason=" ")
    assert "reason" in excinfo.value.error_dict


def test_an_exemplary_award_needs_evidence(member_a):
    with pytest.raises(ValidationError) as excinfo:
        record(member_a, "exemplary_award", "5")
    assert "evidence" in excinfo.value.error_dict
    entry = record(
        member_a, "exemplary_award", "5", evidence=SimpleUploadedFile("award.pdf", PDF, content_type="application/pdf")
    )
    assert entry.evidence.name.startswith("evidence/") and entry.evidence.read() == PDF


def test_the_study_task_cap_refuses_a_second_award_in_the_month_naming_the_room_left(member_a):
    record(member_a, "study_task", "3")
    with pytest.raises(ValidationError) as excinfo:
        record(member_a, "study_task", "3")
    assert "points" in excinfo.value.error_dict
    message = errors_of(excinfo)
    assert "3.00" in message and "at most 0.00 more" in message
    assert total(member_a, month=MARCH) == Decimal("3.00")
    record(member_a, "study_task", "3", month=APRIL)
    assert total(member_a, month=APRIL) == Decimal("3.00")


def test_a_reversed_award_frees_its_room_under_the_cap(member_a):
    ledger_entry_reverse(entry=record(member_a, "study_task", "3"), reason="录入错误", user=None)
    record(member_a, "study_task", "3")
    assert total(member_a) == Decimal("3.00")


def test_attendance_rules_cannot_be_recorded_by_hand(member_a):
    with pytest.raises(ValidationError) as excinfo:
        record(member_a, "org_present", "2")
    assert "rule" in excinfo.value.error_dict
    assert not LedgerEntry.objects.exists()


def test_a_member_who_left_gets_no_more_points(member_a):
    from members.services import member_leave

    member_leave(member=member_a, on_date=datetime.date(2025, 2, 1), reason="transfer_out")
    member_a.refresh_from_db()
    with pytest.raises(ValidationError, match=member_a.name):
        record(member_a, "deduction", "-1")


# Rule-set versions


def new_version(tree, effective_month: datetime.date, *, study_points: str) -> RuleSetVersion:
    """A second version of the default rule set: the same rules, the study task worth more."""
    old = rule_version_for(unit=tree.branch_a, month=effective_month)
    version = RuleSetVersion.objects.create(
        rule_set=old.rule_set, number=old.number + 1, effective_month=effective_month, note="提高学习任务分值"
    )
    rules = []
    for r in old.rules.all():
        r.pk, r.version = None, version
        if r.code == "study_task":
            r.points_min = r.points_max = r.monthly_cap = Decimal(study_points)
        rules.append(r)
    Rule.objects.bulk_create(rules)
    return version


def test_an_entry_names_the_version_in_force_for_its_month(tree, member_a):
    v1 = rule_version_for(unit=tree.branch_a, month=MARCH)
    v2 = new_version(tree, JUNE, study_points="5")
    march = record(member_a, "study_task", "3", month=MARCH)
    june = record(member_a, "study_task", "5", month=JUNE)
    assert (march.rule_version, march.rule.version) == (v1, v1)
    assert (june.rule_version, june.rule.version) == (v2, v2)
    # Months before the new version keep the old rules, months after it use the new.
    assert rule_version_for(unit=tree.branch_a, month=datetime.date(2025, 5, 1)) == v1
    assert rule_version_for(unit=tree.branch_a, month=datetime.date(2025, 12, 1)) == v2
    with pytest.raises(ValidationError) as excinfo:
        record(member_a, "study_task", "3", month=datetime.date(2025, 7, 1))
    assert "points" in excinfo.value.error_dict  # v2's study task is worth 5, not 3
    march.refresh_from_db()
    assert march.points == Decimal("3.00") and march.rule_version == v1


def test_attendance_posts_under_the_version_of_the_activitys_month(tree, member_a):
    v2 = new_version(tree, JUNE, study_points="5")
    for day in (datetime.date(2025, 5, 20), datetime.date(2025, 6, 20)):
        activity_services.activity_create(
            branch=tree.branch_a, kind="themed_day", title="主题党日", date=day, user=None
        )
    versions = dict(LedgerEntry.objects.filter(member=member_a).values_list("month", "rule_version"))
    assert versions[JUNE] == v2.pk and versions[datetime.date(2025, 5, 1)] != v2.pk


def test_a_rule_of_another_version_is_refused(tree, member_a):
    new_version(tree, JUNE, study_points="5")
    old_rule = rule("study_task", tree.branch_a, MARCH)
    with pytest.raises(ValidationError, match="June 2025") as excinfo:
        ledger_entry_record(
            member=member_a, rule=old_rule, month=JUNE, points=Decimal("3"), reason="学习任务", user=None
        )
    assert "rule" in excinfo.value.error_dict
    assert not LedgerEntry.objects.exists()
