"""The suggestion workflow: moves as data, refused with the state named; points once
per stage to every proposer, reversed once when the stage is withdrawn; closed months
refuse, naming the month; the service does not care who calls it."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from branches.services import month_close, month_label
from members.ledger.models import LedgerEntry, Source
from members.suggestions import services
from members.suggestions.models import State, Suggestion

from .. import factories as f
from .factories import evidence, suggestion, through

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


RULE_OF = {"accept": "suggestion_adopted", "implement": "suggestion_implemented"}


def points(member, key=None) -> Decimal:
    """Standing points of the member from suggestions (of one stage: reversals carry
    the rule of the entry they reverse, not its step)."""
    entries = LedgerEntry.objects.filter(member=member, source=Source.SUGGESTION)
    if key:
        entries = entries.filter(rule__code=RULE_OF[key])
    return sum((e.points for e in entries), Decimal("0"))


@pytest.fixture
def two(tree, member_a):
    return [member_a, f.MemberFactory(branch=tree.branch_a, name="刘洋")]


def test_submitting_records_the_suggestion_its_proposers_and_the_first_step(tree, two, users):
    s = suggestion(tree.branch_a, two, expected_benefit="年降本约30万元", expected_value=Decimal("30"))
    assert s.state == State.SUBMITTED and set(s.proposers.all()) == set(two)
    [step] = s.transitions.all()
    assert (step.move, step.to_state) == ("submit", "submitted")


def test_submitting_needs_a_proposer_of_the_branch(tree, member_a, member_x):
    with pytest.raises(ValidationError) as error:
        suggestion(tree.branch_a, [])
    assert "proposers" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        suggestion(tree.branch_a, [member_a, member_x])
    assert member_x.name in error.value.message_dict["proposers"][0]
    with pytest.raises(ValidationError) as error:
        suggestion(tree.plant, [member_a])
    assert "branch" in error.value.message_dict
    assert not Suggestion.objects.exists()


def test_accepting_posts_the_adoption_points_to_every_proposer_once(tree, two):
    s = suggestion(tree.branch_a, two)
    outcome = services.suggestion_accept(suggestion=s, user=None)
    assert len(outcome.entries) == 2 and outcome.skipped == []
    for member in two:
        [entry] = LedgerEntry.objects.filter(member=member)
        assert (entry.points, entry.rule.code, entry.source, entry.source_id, entry.source_key) == (
            Decimal("2.00"),
            "suggestion_adopted",
            "suggestion",
            s.pk,
            "accept",
        )
        assert entry.month == timezone.localdate().replace(day=1)
    assert s.state == State.ACCEPTED


def test_a_second_acceptance_is_refused_naming_the_state_and_posts_nothing(tree, member_a):
    s = suggestion(tree.branch_a, [member_a])
    services.suggestion_accept(suggestion=s, user=None)
    with pytest.raises(ValidationError) as error:
        services.suggestion_accept(suggestion=s, user=None)
    assert str(error.value.messages[0]) == "Accept is not possible now: the record is Accepted (审核通过)."
    assert points(member_a) == Decimal("2")


@pytest.mark.parametrize(
    "stage, move",
    [
        ("submitted", "publish"),
        ("submitted", "implement"),
        ("submitted", "withdraw_acceptance"),
        ("accepted", "implement"),
        ("accepted", "reject"),
        ("rejected", "accept"),
        ("published", "accept"),
        ("implemented", "publish"),
        ("implemented", "withdraw_acceptance"),
    ],
)
def test_the_state_machine_refuses_a_move_its_state_does_not_allow(tree, member_a, stage, move):
    s = suggestion(tree.branch_a, [member_a])
    if stage != "submitted":
        through(s, stage)
    before = (s.state, points(member_a), LedgerEntry.objects.count())
    kwargs = {"suggestion": s, "user": None, "reason": "理由"}
    if move == "implement":
        kwargs |= {"realised_value": Decimal("1"), "evidence": evidence()}
    with pytest.raises(ValidationError) as error:
        services.MOVE_SERVICES[move](**kwargs)
    assert "is not possible now: the record is" in error.value.messages[0]
    s.refresh_from_db()
    assert (s.state, points(member_a), LedgerEntry.objects.count()) == before


def test_implementation_posts_five_more_and_keeps_the_benefit_and_evidence(tree, two):
    s = through(suggestion(tree.branch_a, two), "implemented", value="45.80")
    s.refresh_from_db()
    assert s.state == State.IMPLEMENTED and s.realised_value == Decimal("45.80")
    assert s.evidence and s.evidence_name == "验收报告.pdf" and s.evidence_content_type == "application/pdf"
    for member in two:
        assert points(member, "accept") == Decimal("2") and points(member, "implement") == Decimal("5")
    assert [t.move for t in s.transitions.all()] == ["submit", "accept", "publish", "implement"]


def test_implementation_needs_the_benefit_and_real_evidence(tree, member_a):
    s = through(suggestion(tree.branch_a, [member_a]), "published")
    with pytest.raises(ValidationError) as error:
        services.suggestion_implement(suggestion=s, user=None, realised_value=None, evidence=None)
    assert set(error.value.message_dict) == {"realised_value", "evidence"}
    fake = evidence("报告.pdf")
    fake.file.write(b"not a pdf")
    fake.file.seek(0)
    fake = type(fake)("报告.pdf", b"MZ not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        services.suggestion_implement(suggestion=s, user=None, realised_value=Decimal("3"), evidence=fake)
    assert "evidence" in error.value.message_dict
    assert points(member_a, "implement") == 0


def test_withdrawing_a_stage_reverses_exactly_its_points_once(tree, two):
    s = through(suggestion(tree.branch_a, two), "implemented")
    outcome = services.suggestion_withdraw_implementation(suggestion=s, user=None, reason="效益核算有误")
    assert outcome.reversed == 2 and s.state == State.PUBLISHED and s.realised_value is None and not s.evidence
    for member in two:
        assert points(member, "implement") == 0 and points(member, "accept") == Decimal("2")
    with pytest.raises(ValidationError):
        services.suggestion_withdraw_implementation(suggestion=s, user=None, reason="再次撤回")
    assert LedgerEntry.objects.filter(reverses__isnull=False).count() == 2
    # Back through publication to acceptance, and its points go too.
    services.suggestion_withdraw_publication(suggestion=s, user=None, reason="暂缓发布")
    outcome = services.suggestion_withdraw_acceptance(suggestion=s, user=None, reason="重新审核")
    assert outcome.reversed == 2 and s.state == State.SUBMITTED
    assert all(points(m) == 0 for m in two)
    # Accepted again: the stage posts again, once.
    services.suggestion_accept(suggestion=s, user=None)
    assert all(points(m) == Decimal("2") for m in two)


def test_undoing_needs_a_reason(tree, member_a):
    s = through(suggestion(tree.branch_a, [member_a]), "accepted")
    with pytest.raises(ValidationError) as error:
        services.suggestion_withdraw_acceptance(suggestion=s, user=None, reason=" ")
    assert "reason" in error.value.message_dict
    assert s.state == State.ACCEPTED and points(member_a) == Decimal("2")


def test_rejection_keeps_the_reason_and_reopening_clears_it(tree, member_a):
    s = suggestion(tree.branch_a, [member_a])
    with pytest.raises(ValidationError):
        services.suggestion_reject(suggestion=s, user=None, reason="")
    services.suggestion_reject(suggestion=s, user=None, reason="与现行规程冲突")
    assert s.state == State.REJECTED and s.rejection_reason == "与现行规程冲突"
    assert points(member_a) == 0
    services.suggestion_reopen(suggestion=s, user=None, reason="补充材料后重审")
    assert s.state == State.SUBMITTED and s.rejection_reason == ""


def test_a_closed_month_refuses_the_acceptance_naming_the_month(tree, member_a):
    march = datetime.date(2025, 3, 1)
    s = suggestion(tree.branch_a, [member_a], submitted_on=datetime.date(2025, 3, 3))
    month_close(committee=tree.plant, month=march, user=None, reason="公示")
    with pytest.raises(ValidationError) as error:
        services.suggestion_accept(suggestion=s, user=None, on=datetime.date(2025, 3, 20))
    assert month_label(march) in error.value.messages[0]
    s.refresh_from_db()
    assert s.state == State.SUBMITTED and not s.transitions.filter(move="accept").exists()
    assert points(member_a) == 0


def test_withdrawing_points_of_a_closed_month_is_refused(tree, member_a):
    s = suggestion(tree.branch_a, [member_a], submitted_on=datetime.date(2025, 3, 3))
    services.suggestion_accept(suggestion=s, user=None, on=datetime.date(2025, 3, 20))
    month_close(committee=tree.plant, month=datetime.date(2025, 3, 1), user=None, reason="公示")
    with pytest.raises(ValidationError) as error:
        services.suggestion_withdraw_acceptance(suggestion=s, user=None, reason="撤回")
    assert month_label(datetime.date(2025, 3, 1)) in error.value.messages[0]
    s.refresh_from_db()
    assert s.state == State.ACCEPTED and points(member_a) == Decimal("2")


def test_a_step_is_dated_no_earlier_than_the_suggestion_and_not_in_the_future(tree, member_a):
    s = suggestion(tree.branch_a, [member_a], submitted_on=datetime.date(2025, 3, 3))
    for day in (datetime.date(2025, 3, 2), timezone.localdate() + datetime.timedelta(days=1)):
        with pytest.raises(ValidationError) as error:
            services.suggestion_accept(suggestion=s, user=None, on=day)
        assert "on" in error.value.message_dict
