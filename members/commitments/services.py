"""Writes of the commitments app: commitments and templates made, a template given to
every member, milestones, the half-yearly checks (which post and reverse points through
the ledger) and the committee's publication (公示) of a period's results."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.downloads import shorten_filename
from branches.models import OrgUnit
from branches.services import month_assert_open, month_label
from branches.uploads import check_upload
from branches.workflow import claim, move_named, refuse
from members.ledger.models import LedgerEntry, Source
from members.ledger.services import ledger_post_source, ledger_reverse_sources, rule_version_for
from members.models import Member
from members.selectors import members_of_branch_at

from .models import (
    RESULT_RULES,
    CheckPublication,
    CheckPublicationTransition,
    Commitment,
    CommitmentCheck,
    CommitmentMilestone,
    CommitmentTemplate,
    Period,
    Result,
    source_key_of,
)

FIRST_YEAR, LAST_YEAR = 2000, 2100
# Switched off only by tests/commitments/test_concurrency.py, to show the race it prevents.
LOCKING = True
# A test hook: called right after a save has read the commitment's current check.
_after_check_read = None
EVIDENCE_NAME_LENGTH = 100  # the FileField's own limit, with the upload_to prefix


def check_month(*, branch: OrgUnit, year: int, period: str) -> datetime.date:
    """The month a period's check belongs to — where its points are posted: the months
    the rule-set version in force for the branch at the start of the year names (the
    year's commitments are made then; a version taking effect mid-year does not move a
    check the branch was already working towards)."""
    version = rule_version_for(unit=branch, month=datetime.date(year, 1, 1))
    month = version.commitment_mid_check if period == Period.MID else version.commitment_final_check
    return datetime.date(year, month, 1)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            {"year": _("Choose a year from %(first)s to %(last)s.") % {"first": FIRST_YEAR, "last": LAST_YEAR}}
        )


def _check_branch(branch: OrgUnit) -> None:
    if not branch.is_branch:
        raise ValidationError(_("Commitments belong to a branch."))


def _target_fields(
    *,
    text: str,
    field: str,
    target_text: str,
    target_value: Decimal | None,
    target_unit: str,
    due_on: datetime.date | None,
) -> dict:
    if not text.strip():
        raise ValidationError({"text": _("Say what is promised.")})
    if target_value is not None and not target_unit.strip():
        raise ValidationError({"target_unit": _("Give the unit of the target value (次, 件, 小时 …).")})
    return {
        "text": text.strip(),
        "field": field,
        "target_text": target_text.strip(),
        "target_value": target_value,
        "target_unit": target_unit.strip(),
        "due_on": due_on,
    }


@transaction.atomic
def commitment_create(
    *,
    branch: OrgUnit,
    year: int,
    member: Member | None,
    text: str,
    field: str,
    target_text: str = "",
    target_value: Decimal | None = None,
    target_unit: str = "",
    due_on: datetime.date | None = None,
    milestones: list[tuple[str, datetime.date | None]] | None = None,
    user: AbstractBaseUser | None,
) -> Commitment:
    """A member's commitment for ``year`` (or, with no member, the branch's own), with
    its milestones. The member must belong to the branch now."""
    _check_branch(branch)
    _check_year(year)
    if member is not None and member.branch_id != branch.pk:
        raise ValidationError(
            {"member": _("%(member)s is not a member of %(branch)s.") % {"member": member.name, "branch": branch.name}}
        )
    fields = _target_fields(
        text=text,
        field=field,
        target_text=target_text,
        target_value=target_value,
        target_unit=target_unit,
        due_on=due_on,
    )
    commitment = Commitment.objects.create(branch=branch, year=year, member=member, created_by=user, **fields)
    CommitmentMilestone.objects.bulk_create(
        [
            CommitmentMilestone(commitment=commitment, title=t.strip(), due_on=d)
            for t, d in milestones or []
            if t.strip()
        ]
    )
    return commitment


@transaction.atomic
def commitment_update(
    *,
    commitment: Commitment,
    text: str,
    field: str,
    target_text: str = "",
    target_value: Decimal | None = None,
    target_unit: str = "",
    due_on: datetime.date | None = None,
    user: AbstractBaseUser | None,
) -> Commitment:
    """Correct what a commitment promises. Its checks and their points stay: a result
    is changed in the check grid, where it reverses and re-posts."""
    fields = _target_fields(
        text=text,
        field=field,
        target_text=target_text,
        target_value=target_value,
        target_unit=target_unit,
        due_on=due_on,
    )
    Commitment.objects.filter(pk=commitment.pk).update(**fields)
    for name, value in fields.items():
        setattr(commitment, name, value)
    return commitment


@transaction.atomic
def commitment_delete(*, commitment: Commitment, user: AbstractBaseUser | None) -> None:
    """Delete a commitment recorded by mistake — only before any check: a checked
    commitment has its results (and points) on record."""
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    if commitment.checks.exists():
        raise ValidationError(
            _("This commitment has been checked: its results stay on record, so it cannot be deleted.")
        )
    commitment.milestones.all().delete()
    commitment.delete()


@transaction.atomic
def commitment_template_create(
    *,
    branch: OrgUnit,
    year: int,
    text: str,
    field: str,
    target_text: str = "",
    target_value: Decimal | None = None,
    target_unit: str = "",
    due_on: datetime.date | None = None,
    user: AbstractBaseUser | None,
) -> CommitmentTemplate:
    _check_branch(branch)
    _check_year(year)
    fields = _target_fields(
        text=text,
        field=field,
        target_text=target_text,
        target_value=target_value,
        target_unit=target_unit,
        due_on=due_on,
    )
    return CommitmentTemplate.objects.create(branch=branch, year=year, created_by=user, **fields)


@transaction.atomic
def commitment_template_give(
    *, template: CommitmentTemplate, user: AbstractBaseUser | None, on_date: datetime.date | None = None
) -> int:
    """Give the template to every member of its branch on ``on_date`` (today): one
    commitment each, tracked separately. A member who already has a copy is passed
    over, so giving it again adds only the members who joined since. Returns how many
    copies were made."""
    # Two clicks at once: the second waits here and then finds the first one's copies.
    CommitmentTemplate.objects.select_for_update().filter(pk=template.pk).first()
    on_date = on_date or timezone.localdate()
    members = members_of_branch_at(branch=template.branch, on_date=on_date).filter(branch=template.branch)
    members = members.exclude(commitments__template=template).order_by("pk")
    copies = [
        Commitment(
            branch=template.branch,
            year=template.year,
            member=member,
            template=template,
            text=template.text,
            field=template.field,
            target_text=template.target_text,
            target_value=template.target_value,
            target_unit=template.target_unit,
            due_on=template.due_on,
            created_by=user,
        )
        for member in members
    ]
    Commitment.objects.bulk_create(copies)
    return len(copies)


@transaction.atomic
def commitment_milestone_add(
    *, commitment: Commitment, title: str, due_on: datetime.date | None, user: AbstractBaseUser | None
) -> CommitmentMilestone:
    if not title.strip():
        raise ValidationError({"title": _("Name the milestone.")})
    return CommitmentMilestone.objects.create(commitment=commitment, title=title.strip(), due_on=due_on)


@transaction.atomic
def commitment_milestone_set_done(
    *, milestone: CommitmentMilestone, done: bool, user: AbstractBaseUser | None
) -> CommitmentMilestone:
    CommitmentMilestone.objects.filter(pk=milestone.pk).update(done=done)
    milestone.done = done
    return milestone


def publication_of(*, branch: OrgUnit, year: int, period: str) -> CheckPublication | None:
    return CheckPublication.objects.filter(branch=branch, year=year, period=period).first()


def _assert_not_published(*, branch: OrgUnit, year: int, period: str) -> None:
    publication = publication_of(branch=branch, year=year, period=period)
    if publication is not None and publication.is_published:
        raise ValidationError(
            _("The %(check)s of %(year)s has been published for %(branch)s: its results no longer change.")
            % {"check": Period(period).label, "year": year, "branch": branch.name}
        )


@dataclass
class CheckOutcome:
    """What saving a check did: the check as it stands, the entries posted, how many
    were reversed, and the members the ledger passed over with why."""

    check: CommitmentCheck
    posted: list[LedgerEntry] = field(default_factory=list)
    reversed: int = 0
    skipped: list[tuple[Member, str]] = field(default_factory=list)
    changed: bool = False


@transaction.atomic
def commitment_check_set(
    *,
    commitment: Commitment,
    period: str,
    result: str,
    user: AbstractBaseUser | None,
    note: str = "",
    evidence: UploadedFile | None = None,
) -> CheckOutcome:
    """Mark a commitment 完成 / 部分完成 / 未完成 at a period's check. A new or changed
    result reverses what the check posted before (``source_key`` ``check:<period>``) and
    posts the rule of the new result (met +5, partly +2 by default) to the member in the
    check month, all in this transaction; the same result saved again posts nothing. A
    closed check month refuses, naming the month, and a published period refuses too:
    nothing changes. The branch's own commitments are checked but post no points."""
    if period not in Period.values:
        raise ValidationError({"period": _("Choose the mid-year or the year-end check.")})
    if result not in Result.values:
        raise ValidationError({"result": _("Choose met, partly met or not met.")})
    # One save of a commitment at a time: a double click posts once.
    commitments = Commitment.objects.select_related("branch", "member__branch")
    if LOCKING:
        commitments = commitments.select_for_update(of=("self",))
    commitment = commitments.get(pk=commitment.pk)
    _assert_not_published(branch=commitment.branch, year=commitment.year, period=period)
    month = check_month(branch=commitment.branch, year=commitment.year, period=period)
    month_assert_open(unit=commitment.branch, month=month)
    if evidence:
        try:
            check_upload(evidence)
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages}) from None
        evidence.name = shorten_filename(evidence.name, EVIDENCE_NAME_LENGTH - len("commitments/2026/01/"))
    check = CommitmentCheck.objects.filter(commitment=commitment, period=period).first()
    if _after_check_read is not None:
        _after_check_read()
    outcome = CheckOutcome(check=check)
    outcome.changed = check is None or check.result != result
    if outcome.changed:
        reason = _("%(check)s %(year)s: %(result)s — %(text)s") % {
            "check": Period(period).label,
            "year": commitment.year,
            "result": Result(result).label,
            "text": commitment.text[:60],
        }
        key = source_key_of(period)
        if check is not None:  # a first check has posted nothing yet
            outcome.reversed = ledger_reverse_sources(
                source=Source.COMMITMENT, source_ids=[commitment.pk], source_key=key, reason=reason, user=user
            )
        code = RESULT_RULES.get(Result(result))
        if code and commitment.member is not None:
            posting = ledger_post_source(
                members=[commitment.member],
                code=code,
                month=month,
                source=Source.COMMITMENT,
                source_id=commitment.pk,
                source_key=key,
                reason=reason,
                user=user,
            )
            outcome.posted, outcome.skipped = posting.entries, posting.skipped
    if check is None:
        check = CommitmentCheck(commitment=commitment, period=period)
    check.result = result
    check.note = note.strip()
    if evidence:
        check.evidence = evidence
    check.checked_by = user
    check.checked_at = timezone.now()
    check.save()
    outcome.check = check
    return outcome


@transaction.atomic
def check_publication_publish(
    *, branch: OrgUnit, year: int, period: str, user: AbstractBaseUser | None, note: str = ""
) -> CheckPublication:
    """Publish (公示) a branch's results of a period: every commitment of the year must
    have its result. Publishing twice (two clicks) publishes once."""
    _check_branch(branch)
    publication, _created = CheckPublication.objects.get_or_create(branch=branch, year=year, period=period)
    move = move_named(CheckPublication.MOVES, "publish")
    commitments = Commitment.objects.filter(branch=branch, year=year)
    total = commitments.count()
    if not total:
        raise ValidationError(_("%(branch)s has no commitments for %(year)s.") % {"branch": branch.name, "year": year})
    unchecked = commitments.exclude(checks__period=period).count()
    if unchecked:
        raise ValidationError(
            _("%(n)s of %(total)s commitments have no result at the %(check)s yet.")
            % {"n": unchecked, "total": total, "check": Period(period).label}
        )
    now = timezone.now()
    if not claim(
        CheckPublication.objects, publication.pk, move, published_by=user, published_at=now, note=note.strip()
    ):
        publication.refresh_from_db()
        raise refuse(move, publication.get_state_display())
    CheckPublicationTransition.objects.create(
        publication=publication,
        move=move.name,
        from_state=CheckPublication.State.DRAFT,
        to_state=move.target,
        reason=note.strip(),
        user=user,
        at=now,
    )
    publication.refresh_from_db()
    return publication


def check_month_label(*, branch: OrgUnit, year: int, period: str) -> str:
    return month_label(check_month(branch=branch, year=year, period=period))
