"""The year (年度考核): the annual grade of each branch, the 三型 tier proposal, and the
members' annual stars (PRODUCT.md, "Annual grade" in the appendix).

Only what was *published* counts, and of a month republished after a reopening only its
latest version. The sums and counts are one ``GROUP BY`` over the published rows; Python
touches one row per branch (the mean, rounded half-up, and the proposal).

A roll-up is idempotent: it upserts one ``AnnualGrade`` per (committee, year, branch).
What the committee confirmed stays confirmed while the numbers behind it are the same;
when they change, the confirmation is withdrawn — and a tier it applied is put back —
so the committee confirms again knowing the new numbers.

The tier invariant: ``tier_confirmed`` is true exactly when the branch's tier was set to
``tier_proposed`` by this year's confirmation. While it is false the branch's current
tier is the starting point (``tier_before``); while it is true ``tier_before`` is frozen.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import OrgUnit
from branches.selectors import tracked_from_of
from branches.services import org_unit_update
from members.ledger.models import RuleSetVersion
from members.ledger.services import rule_version_for
from members.reviews import selectors as review_selectors

from .engine import half_up
from .models import AnnualGrade, Publication, PublishedBranchScore, PublishedMemberScore

Grade = AnnualGrade.Grade
Tier = OrgUnit.Tier
LADDER = [Tier.STANDARD, Tier.EXEMPLARY, Tier.RED_FLAG]  # 标准型 → 示范型 → 红旗型
MONTHS_IN_YEAR = 12
# Published totals have two decimals, so "total ≥ band" and "total ≥ band − half a
# cent" are the same test; the slack keeps SQLite's float sums on the right side of it.
HALF_CENT = Decimal("0.005")
SUM_FIELD = DecimalField(max_digits=12, decimal_places=2)

# The numbers a confirmation was given for: if any changes, it is withdrawn.
COMPARED = ("months_published", "mean_total", "bottom_three_months", "proposed_grade", "tier_before")


# --- rules -------------------------------------------------------------------------


def rule_month(year: int, today: datetime.date | None = None) -> datetime.date:
    """The month whose rule set version grades the year: December, or the current month
    while the year is still running."""
    today = today or timezone.localdate()
    return min(datetime.date(year, 12, 1), today.replace(day=1))


def annual_version(*, committee: OrgUnit, year: int) -> RuleSetVersion:
    return rule_version_for(unit=committee, month=rule_month(year))


def proposed_grade(*, mean: Decimal, bottom_three_months: int, version: RuleSetVersion) -> str:
    """先进 from ``grade_advanced_from`` unless in the bottom three more than
    ``bottom_three_limit`` times; 达标 from ``grade_standard_from``; 未达标 below."""
    if mean >= version.grade_advanced_from and bottom_three_months <= version.bottom_three_limit:
        return Grade.ADVANCED
    if mean >= version.grade_standard_from:
        return Grade.STANDARD
    return Grade.BELOW


def tier_move(*, tier: str, grade: str) -> str:
    """One step up the 三型 ladder for an advanced branch, one down for a branch below
    standard, otherwise where it is; the ends stay put. A branch not yet on the ladder
    (no tier) joins it at 标准型 when advanced and otherwise stays off it."""
    if tier not in LADDER:
        return Tier.STANDARD if grade == Grade.ADVANCED else tier
    step = {Grade.ADVANCED: 1, Grade.BELOW: -1}.get(grade, 0)
    return LADDER[min(max(LADDER.index(tier) + step, 0), len(LADDER) - 1)]


# --- selectors ---------------------------------------------------------------------


def latest_publications(*, committee: OrgUnit, year: int) -> QuerySet[Publication]:
    """The publication of each month of ``year`` that counts: its latest version, of a
    tracked month (a month published before the administrator moved the committee's
    first tracked month later counts for nothing)."""
    newest = (
        Publication.objects.filter(committee=committee, month=OuterRef("month")).order_by("-version").values("pk")[:1]
    )
    start = datetime.date(year, 1, 1)
    tracked_from = tracked_from_of(unit=committee)
    return Publication.objects.filter(
        committee=committee, month__gte=max(start, tracked_from or start), month__lt=datetime.date(year + 1, 1, 1)
    ).filter(pk=Subquery(newest))


def branch_year_totals(*, committee: OrgUnit, year: int) -> list[dict]:
    """Per branch: months published, the sum of the published monthly totals and the
    months in the bottom three. One ``GROUP BY branch``."""
    return list(
        PublishedBranchScore.objects.filter(publication__in=latest_publications(committee=committee, year=year))
        .values("branch_id")
        .annotate(
            months=Count("pk"),
            total_sum=Sum("total", output_field=SUM_FIELD),
            bottom=Count("pk", filter=Q(bottom_three=True)),
        )
        .order_by("branch_id")
    )


def annual_grades(*, committee: OrgUnit, year: int) -> QuerySet[AnnualGrade]:
    return (
        AnnualGrade.objects.filter(committee=committee, year=year)
        .select_related("branch", "confirmed_by")
        .order_by("-mean_total", "branch__name", "pk")
    )


def member_annual_stars(
    *, committee: OrgUnit, year: int, branch: OrgUnit | None = None, version: RuleSetVersion | None = None
) -> QuerySet:
    """Per member: the sum of their published monthly totals in ``year`` (latest version
    of each month), the months counted, and the stars by the year bands of the version
    in force (see ``rule_month``): its own, or twelve times its month bands. One ``GROUP BY
    member``, highest total first. ``branch`` keeps the members who had a published
    month in that branch; their total is still the whole year's. A member rated 不合格 in
    a confirmed democratic review of the year keeps at most the version's
    ``review_unqualified_stars`` (``capped`` true where that lowered ``banded_stars``)."""
    version = version or annual_version(committee=committee, year=year)
    rows = PublishedMemberScore.objects.filter(publication__in=latest_publications(committee=committee, year=year))
    if branch is not None:
        rows = rows.filter(member_id__in=rows.filter(branch=branch).values("member_id"))
    banded = Case(
        *[When(year_total__gte=band - HALF_CENT, then=Value(n)) for n, band in version.year_bands()],
        default=Value(1),
        output_field=IntegerField(),
    )
    # A member rated 不合格 in the year's confirmed democratic review keeps at most the
    # version's ``review_unqualified_stars`` (seed 002); ``capped`` says the cap bit.
    cap = version.review_unqualified_stars
    unqualified = Q(member_id__in=review_selectors.unqualified_members(year=year))
    return (
        rows.values("member_id", "member__name", "member__employee_no")
        .annotate(year_total=Sum("total", output_field=SUM_FIELD), months=Count("pk"))
        .annotate(banded_stars=banded)
        .annotate(
            capped=Case(When(unqualified & Q(banded_stars__gt=cap), then=Value(True)), default=Value(False)),
            stars=Case(When(capped=True, then=Value(cap)), default=F("banded_stars"), output_field=IntegerField()),
        )
        .order_by("-year_total", "member__name", "member_id")
    )


def members_last_branch(*, committee: OrgUnit, year: int, member_ids: list[int]) -> dict[int, int]:
    """The branch of each member's last published month of ``year`` (for one page of
    members: at most twelve rows each)."""
    rows = (
        PublishedMemberScore.objects.filter(
            publication__in=latest_publications(committee=committee, year=year), member_id__in=member_ids
        )
        .order_by("member_id", "publication__month")
        .values_list("member_id", "branch_id")
    )
    return dict(rows)  # the last month of each member wins


def annual_member_branches(*, committee: OrgUnit, year: int) -> QuerySet[OrgUnit]:
    """The branches that appear in the year's published member scores (the filter's choices)."""
    publications = latest_publications(committee=committee, year=year)
    ids = PublishedMemberScore.objects.filter(publication__in=publications).values("branch_id")
    return OrgUnit.objects.filter(pk__in=ids).order_by("sort_order", "name")


# --- services ----------------------------------------------------------------------


def _set_tier(branch: OrgUnit, tier: str) -> None:
    if branch.tier != tier:
        org_unit_update(
            unit=branch,
            name=branch.name,
            brand=branch.brand,
            brand_description=branch.brand_description,
            sort_order=branch.sort_order,
            tier=tier,
        )


def _withdraw_tier(grade: AnnualGrade, branch: OrgUnit) -> None:
    """Undo a tier this grade applied — unless someone has changed it since."""
    if grade.tier_confirmed and branch.tier == grade.tier_proposed:
        _set_tier(branch, grade.tier_before)
    grade.tier_confirmed = False


@transaction.atomic
def annual_rollup(*, committee: OrgUnit, year: int, user: AbstractBaseUser | None = None) -> list[AnnualGrade]:
    """Roll the year's published months up into one ``AnnualGrade`` per branch graded
    that year. Running it again changes nothing unless the published numbers (or the
    rules, or a branch's tier) changed; a confirmation given for other numbers is
    withdrawn, and such grades come back with ``confirmation_withdrawn`` set."""
    if not committee.is_committee:
        raise ValidationError(_("The year is rolled up per party committee."))
    if year > timezone.localdate().year:
        raise ValidationError(_("%(year)s has not begun yet.") % {"year": year})
    version = annual_version(committee=committee, year=year)
    totals = branch_year_totals(committee=committee, year=year)
    # Locking the existing rows serialises a roll-up with a confirmation in flight.
    existing = {g.branch_id: g for g in AnnualGrade.objects.select_for_update().filter(committee=committee, year=year)}
    branches = OrgUnit.objects.in_bulk([row["branch_id"] for row in totals])
    withdrawn: set[int] = set()
    rows = []
    for row in totals:
        branch = branches[row["branch_id"]]
        months = row["months"]
        total_sum = (row["total_sum"] or Decimal("0")).quantize(Decimal("0.01"))
        mean = half_up(Fraction(total_sum) / months)
        grade = existing.get(branch.pk) or AnnualGrade(committee=committee, year=year, branch=branch)
        before = {field: getattr(grade, field) for field in COMPARED}
        grade.months_published, grade.mean_total, grade.bottom_three_months = months, mean, row["bottom"]
        grade.proposed_grade = proposed_grade(mean=mean, bottom_three_months=row["bottom"], version=version)
        if not grade.tier_confirmed:
            grade.tier_before = branch.tier
        confirmed = bool(grade.final_grade) or grade.tier_confirmed
        if grade.pk and confirmed and before != {field: getattr(grade, field) for field in COMPARED}:
            _withdraw_tier(grade, branch)
            grade.tier_before = branch.tier  # as put back, or as someone has set it since
            grade.final_grade = grade.grade_reason = ""
            grade.confirmed_by, grade.confirmed_at = None, None
            withdrawn.add(branch.pk)
        grade.tier_proposed = tier_move(tier=grade.tier_before, grade=grade.final_grade or grade.proposed_grade)
        rows.append(grade)
    fields = [
        *COMPARED,
        "tier_proposed",
        "final_grade",
        "grade_reason",
        "tier_confirmed",
        "confirmed_by",
        "confirmed_at",
    ]
    AnnualGrade.objects.bulk_update([g for g in rows if g.pk], fields, batch_size=500)
    # A roll-up running alongside may have inserted the same branch: then this one wins.
    AnnualGrade.objects.bulk_create(
        [g for g in rows if not g.pk],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["committee", "year", "branch"],
        update_fields=fields,
    )
    # A branch no longer in any published month (a corrected publication) drops out
    # unless the committee confirmed it; a confirmed grade is never silently deleted.
    stale = set(existing) - set(branches)
    AnnualGrade.objects.filter(committee=committee, year=year, branch_id__in=stale, final_grade="").delete()
    result = list(annual_grades(committee=committee, year=year).filter(branch_id__in=branches))
    for grade in result:
        grade.confirmation_withdrawn = grade.branch_id in withdrawn
    return result


@transaction.atomic
def annual_grade_confirm(
    *,
    grade: AnnualGrade,
    final_grade: str,
    reason: str = "",
    confirm_tier: bool,
    user: AbstractBaseUser | None,
) -> AnnualGrade:
    """The committee confirms the proposed grade or overrides it — an override needs a
    written reason. The tier proposal follows the confirmed grade; ``confirm_tier``
    applies it to the branch (unticking it puts back a tier applied before)."""
    grade = AnnualGrade.objects.select_for_update().select_related("branch").get(pk=grade.pk)
    if final_grade not in Grade.values:
        raise ValidationError({"final_grade": _("Choose a grade.")})
    reason = reason.strip()
    if final_grade != grade.proposed_grade and not reason:
        raise ValidationError({"reason": _("Overriding the proposed grade needs a written reason.")})
    branch = OrgUnit.objects.select_for_update().get(pk=grade.branch_id)
    # A tier applied for another grade goes back before the new proposal is applied.
    proposal = tier_move(tier=grade.tier_before, grade=final_grade)
    if grade.tier_confirmed and (not confirm_tier or proposal != grade.tier_proposed):
        _withdraw_tier(grade, branch)
    grade.tier_proposed = proposal
    if confirm_tier:
        _set_tier(branch, proposal)
        grade.tier_confirmed = True
    grade.final_grade, grade.grade_reason = final_grade, reason
    grade.confirmed_by, grade.confirmed_at = user, timezone.now()
    grade.save(
        update_fields=["final_grade", "grade_reason", "tier_proposed", "tier_confirmed", "confirmed_by", "confirmed_at"]
    )
    return grade
