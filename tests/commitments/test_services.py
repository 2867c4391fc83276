import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.services import month_close
from members.commitments import services
from members.commitments.models import CheckPublication, Commitment, CommitmentCheck, Period, Result
from members.ledger.models import LedgerEntry, Source
from members.ledger.services import rule_version_for
from members.services import member_leave
from tests import factories as f

from .conftest import DECEMBER, JUNE, PDF, YEAR

pytestmark = pytest.mark.django_db


def entries(commitment):
    return LedgerEntry.objects.filter(source=Source.COMMITMENT, source_id=commitment.pk)


def standing_points(member) -> Decimal:
    rows = LedgerEntry.objects.filter(member=member, source=Source.COMMITMENT)
    return sum((e.points for e in rows), Decimal("0"))


def test_a_template_given_to_all_makes_one_copy_per_member(tree, branch_year):
    copies = Commitment.objects.filter(template=branch_year.template)
    assert sorted(copies.values_list("member_id", flat=True)) == sorted(m.pk for m in branch_year.members)
    assert {c.text for c in copies} == {"全年安全生产零违章"}
    assert all(c.year == YEAR and c.branch == tree.branch_a for c in copies)


def test_giving_a_template_again_adds_only_the_members_who_joined_since(tree, branch_year):
    assert services.commitment_template_give(template=branch_year.template, user=None) == 0
    newcomer = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    assert services.commitment_template_give(template=branch_year.template, user=None) == 1
    assert Commitment.objects.filter(template=branch_year.template, member=newcomer).count() == 1
    assert Commitment.objects.filter(template=branch_year.template).count() == 4


def test_a_member_who_left_is_not_given_the_template(tree, branch_year):
    leaver = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    member_leave(member=leaver, on_date=timezone.localdate() - datetime.timedelta(days=1), reason="transfer_out")
    template = services.commitment_template_create(
        branch=tree.branch_a, year=YEAR, text="每月学习一次", field="study", user=None
    )
    services.commitment_template_give(template=template, user=None)
    assert not Commitment.objects.filter(template=template, member=leaver).exists()


def test_a_met_check_posts_five_points_in_the_check_month_exactly_once(branch_year):
    personal = branch_year.personal
    outcome = services.commitment_check_set(commitment=personal, period=Period.MID, result=Result.MET, user=None)
    assert [(e.points, e.month, e.source_key) for e in outcome.posted] == [(Decimal("5.00"), JUNE, "check:mid")]
    # Saved again with the same result (a new note): nothing more is posted.
    again = services.commitment_check_set(
        commitment=personal, period=Period.MID, result=Result.MET, note="已带一名", user=None
    )
    assert again.posted == [] and again.reversed == 0
    assert entries(personal).count() == 1
    assert CommitmentCheck.objects.get(commitment=personal, period=Period.MID).note == "已带一名"


def test_the_year_end_check_posts_in_december_beside_the_mid_year_one(branch_year):
    personal = branch_year.personal
    services.commitment_check_set(commitment=personal, period=Period.MID, result=Result.PARTLY, user=None)
    services.commitment_check_set(commitment=personal, period=Period.FINAL, result=Result.MET, user=None)
    rows = sorted(entries(personal).values_list("month", "source_key", "points"))
    assert rows == [(JUNE, "check:mid", Decimal("2.00")), (DECEMBER, "check:final", Decimal("5.00"))]


def test_a_changed_check_reverses_its_entry_and_posts_the_new_result(branch_year):
    personal, member = branch_year.personal, branch_year.personal.member
    services.commitment_check_set(commitment=personal, period=Period.FINAL, result=Result.MET, user=None)
    services.commitment_check_set(commitment=personal, period=Period.MID, result=Result.MET, user=None)
    outcome = services.commitment_check_set(commitment=personal, period=Period.MID, result=Result.PARTLY, user=None)
    assert outcome.reversed == 1 and [e.points for e in outcome.posted] == [Decimal("2.00")]
    standing_mid = entries(personal).filter(source_key="check:mid", reverses__isnull=True, reversed_by__isnull=True)
    assert list(standing_mid.values_list("points", flat=True)) == [Decimal("2.00")]
    [reversal] = entries(personal).filter(reverses__isnull=False)
    assert reversal.points == Decimal("-5.00") and reversal.reverses.source_key == "check:mid"
    # The year-end check's entry is untouched.
    assert not entries(personal).filter(source_key="check:final", reversed_by__isnull=False).exists()
    assert standing_points(member) == Decimal("7.00")
    # Not met: the partly entry is reversed and nothing new posted.
    outcome = services.commitment_check_set(commitment=personal, period=Period.MID, result=Result.NOT_MET, user=None)
    assert outcome.reversed == 1 and outcome.posted == []
    assert standing_points(member) == Decimal("5.00")


def test_a_closed_check_month_refuses_naming_the_month_and_nothing_changes(tree, branch_year):
    personal = branch_year.personal
    services.commitment_check_set(commitment=personal, period=Period.MID, result=Result.MET, user=None)
    month_close(committee=tree.plant, month=JUNE, user=None, reason="")
    with pytest.raises(ValidationError) as refused:
        services.commitment_check_set(commitment=personal, period=Period.MID, result=Result.NOT_MET, user=None)
    assert "2025" in " ".join(refused.value.messages) and "6" in " ".join(refused.value.messages)
    assert CommitmentCheck.objects.get(commitment=personal, period=Period.MID).result == Result.MET
    assert entries(personal).count() == 1


def test_the_branchs_own_commitment_is_checked_but_posts_nothing(branch_year):
    outcome = services.commitment_check_set(commitment=branch_year.own, period=Period.MID, result=Result.MET, user=None)
    assert outcome.check.result == Result.MET and outcome.posted == []
    assert not entries(branch_year.own).exists()


def test_the_check_months_come_from_the_version_in_force(tree, branch_year):
    version = rule_version_for(unit=tree.branch_a, month=datetime.date(YEAR, 1, 1))
    type(version).objects.filter(pk=version.pk).update(commitment_mid_check=7)
    outcome = services.commitment_check_set(
        commitment=branch_year.personal, period=Period.MID, result=Result.MET, user=None
    )
    assert outcome.posted[0].month == datetime.date(YEAR, 7, 1)


def test_evidence_must_be_a_real_pdf_or_photo(branch_year):
    with pytest.raises(ValidationError) as refused:
        services.commitment_check_set(
            commitment=branch_year.personal,
            period=Period.MID,
            result=Result.MET,
            user=None,
            evidence=SimpleUploadedFile("证明.pdf", b"not a pdf"),
        )
    assert "evidence" in refused.value.error_dict
    outcome = services.commitment_check_set(
        commitment=branch_year.personal,
        period=Period.MID,
        result=Result.MET,
        user=None,
        evidence=SimpleUploadedFile("带徒记录.pdf", PDF),
    )
    assert outcome.check.evidence.name.endswith(".pdf")


def check_all(branch_year, period, result=Result.MET):
    for commitment in Commitment.objects.filter(branch=branch_year.personal.branch, year=YEAR):
        services.commitment_check_set(commitment=commitment, period=period, result=result, user=None)


def test_publishing_needs_every_commitment_checked(tree, branch_year, users):
    services.commitment_check_set(commitment=branch_year.personal, period=Period.MID, result=Result.MET, user=None)
    with pytest.raises(ValidationError) as refused:
        services.check_publication_publish(branch=tree.branch_a, year=YEAR, period=Period.MID, user=users.committee)
    assert "4" in " ".join(refused.value.messages)  # 4 of 5 commitments unchecked
    check_all(branch_year, Period.MID)
    publication = services.check_publication_publish(
        branch=tree.branch_a, year=YEAR, period=Period.MID, user=users.committee
    )
    assert publication.is_published and publication.published_by == users.committee
    assert publication.transitions.count() == 1


def test_a_published_period_refuses_changes_and_a_second_publication(tree, branch_year, users):
    check_all(branch_year, Period.MID)
    services.check_publication_publish(branch=tree.branch_a, year=YEAR, period=Period.MID, user=users.committee)
    with pytest.raises(ValidationError):
        services.check_publication_publish(branch=tree.branch_a, year=YEAR, period=Period.MID, user=users.committee)
    with pytest.raises(ValidationError) as refused:
        services.commitment_check_set(
            commitment=branch_year.personal, period=Period.MID, result=Result.NOT_MET, user=None
        )
    assert "published" in " ".join(refused.value.messages) or "公示" in " ".join(refused.value.messages)
    assert CheckPublication.objects.get().transitions.count() == 1
    # The year-end check is still open.
    services.commitment_check_set(commitment=branch_year.personal, period=Period.FINAL, result=Result.MET, user=None)


def test_a_member_of_another_branch_cannot_be_given_a_commitment(tree, member_x):
    with pytest.raises(ValidationError) as refused:
        services.commitment_create(branch=tree.branch_a, year=YEAR, member=member_x, text="x", field="other", user=None)
    assert "member" in refused.value.error_dict
