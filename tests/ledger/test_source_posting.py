"""Points a record's workflow posts (projects, suggestions): through the ledger, with the
record's source, id and step, capped and refused in closed months like any entry, and
reversed step by step."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from branches.services import month_close
from members.ledger.models import LedgerEntry, Rule, Source
from members.ledger.rule_services import rule_set_version_create
from members.ledger.services import (
    ledger_entry_record,
    ledger_entry_reverse,
    ledger_post_source,
    ledger_reverse_sources,
    rule_version_for,
)

from .. import factories as f

pytestmark = pytest.mark.django_db
MARCH = datetime.date(2025, 3, 1)


def post(members, *, code="project_milestone", key="milestone:1", source_id=7, month=MARCH):
    return ledger_post_source(
        members=members,
        code=code,
        month=month,
        source=Source.PROJECT,
        source_id=source_id,
        source_key=key,
        reason="节点验收",
        user=None,
    )


def standing(member):
    return sum(e.points for e in LedgerEntry.objects.filter(member=member))


def test_a_step_posts_its_rules_fixed_points_to_each_member_and_says_where_from(tree, member_a):
    other = f.MemberFactory(branch=tree.branch_b)
    posting = post([member_a, other, member_a])  # a member listed twice is posted once
    assert posting.skipped == []
    assert [(e.member, e.points, e.source, e.source_id, e.source_key) for e in posting.entries] == [
        (member_a, Decimal("3.00"), "project", 7, "milestone:1"),
        (other, Decimal("3.00"), "project", 7, "milestone:1"),
    ]
    entry = LedgerEntry.objects.get(member=other)
    assert entry.rule.code == "project_milestone" and entry.branch == tree.branch_b
    assert entry.rule_version == rule_version_for(unit=tree.branch_b, month=MARCH)


def test_a_full_monthly_cap_posts_what_still_fits_and_then_nothing(member_a):
    for n in range(3):
        post([member_a], key=f"milestone:{n}")
    assert standing(member_a) == Decimal("9")  # capped at 9 a month
    posting = post([member_a], key="milestone:4")
    assert posting.entries == [] and [member for member, _why in posting.skipped] == [member_a]
    assert standing(member_a) == Decimal("9")


def test_a_closed_month_refuses_the_posting_and_names_the_month(tree, member_a):
    month_close(committee=tree.plant, month=MARCH, user=None, reason="公示")
    with pytest.raises(ValidationError) as error:
        post([member_a])
    assert "2025" in str(error.value) and not LedgerEntry.objects.exists()


def test_a_member_whose_rules_retired_the_rule_is_passed_over_with_the_reason(tree, member_a):
    rule_set_version_create(
        rule_set=None,
        committee=tree.plant,
        effective_month=MARCH,
        note="",
        user=None,
        rules=[{"code": "project_milestone", "retire": True}],
    )
    outside = f.MemberFactory(branch=tree.branch_x)  # another committee keeps the default
    posting = post([member_a, outside])
    assert [e.member for e in posting.entries] == [outside]
    assert [m for m, _why in posting.skipped] == [member_a]


def test_undoing_a_step_reverses_exactly_its_entries_once(member_a):
    post([member_a], key="milestone:1")
    post([member_a], key="milestone:2")
    assert (
        ledger_reverse_sources(
            source=Source.PROJECT, source_ids=[7], source_key="milestone:1", reason="撤回验收", user=None
        )
        == 1
    )
    assert (
        ledger_reverse_sources(
            source=Source.PROJECT, source_ids=[7], source_key="milestone:1", reason="撤回验收", user=None
        )
        == 0
    )
    assert standing(member_a) == Decimal("3")
    reversal = LedgerEntry.objects.get(reverses__isnull=False)
    assert (reversal.points, reversal.source_key, reversal.reverses.source_key) == (
        Decimal("-3.00"),
        "milestone:1",
        "milestone:1",
    )


def test_a_workflows_entry_is_not_reversed_by_hand_but_on_its_record(member_a):
    [entry] = post([member_a]).entries
    # In English: the compiled catalogue translates the refusal (UI default zh-hans).
    with translation.override("en"), pytest.raises(ValidationError, match="undo the step on its page"):
        ledger_entry_reverse(entry=entry, reason="录错了", user=None)
    assert LedgerEntry.objects.count() == 1


def test_undoing_a_step_in_a_closed_month_is_refused(tree, member_a):
    post([member_a])
    month_close(committee=tree.plant, month=MARCH, user=None, reason="公示")
    with pytest.raises(ValidationError):
        ledger_reverse_sources(
            source=Source.PROJECT, source_ids=[7], source_key="milestone:1", reason="撤回", user=None
        )
    assert standing(member_a) == Decimal("3")


@pytest.mark.parametrize("code", ["project_milestone", "suggestion_adopted"])
def test_a_workflows_rule_cannot_be_typed_in_by_hand(member_a, code):
    rule = Rule.objects.get(version=rule_version_for(unit=member_a.branch, month=MARCH), code=code)
    with pytest.raises(ValidationError) as error:
        ledger_entry_record(member=member_a, rule=rule, month=MARCH, points=rule.points_max, reason="手工", user=None)
    assert "rule" in error.value.message_dict
