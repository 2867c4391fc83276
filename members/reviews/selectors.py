"""Reads of reviews, support plans and talks — also for the apps above (grading and
reports read ``unqualified_members`` and ``confirmed_ratings``). Only a confirmed
review counts outside this app."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from branches.activities.models import Activity
from branches.models import OrgUnit
from members.models import Member
from members.selectors import members_of_branch_at

from .models import MOVES, REVIEW_MEETING_KINDS, DemocraticReview, MemberTalk, Rating, ReviewResult, SupportPlan

State = DemocraticReview.State
RATING_COUNTS = {rating.value: Count("results", filter=Q(results__rating=rating.value)) for rating in Rating}


# --- for grading and reports --------------------------------------------------------------


def unqualified_members(*, year: int) -> QuerySet:
    """The ids of members rated 不合格 in a confirmed review of ``year`` (a subquery: the
    annual stars cap them)."""
    return ReviewResult.objects.filter(
        review__year=year, review__state=State.CONFIRMED, rating=Rating.UNQUALIFIED
    ).values("member_id")


def confirmed_ratings(*, year: int, members) -> dict[int, str]:
    """Each member's rating in a confirmed review of ``year`` (one row per member: a
    branch reviews once a year and a member belongs to one branch at its meeting)."""
    rows = ReviewResult.objects.filter(review__year=year, review__state=State.CONFIRMED, member__in=members)
    return dict(rows.order_by("review__meeting__date").values_list("member_id", "rating"))


# --- the review ---------------------------------------------------------------------------


def review_members(*, review: DemocraticReview) -> QuerySet[Member]:
    """The grid's rows: who belonged to the branch on the day of the meeting."""
    return (
        members_of_branch_at(branch=review.branch, on_date=review.meeting.date)
        .select_related("branch")
        .order_by("employee_no", "pk")
    )


@dataclass
class GridRow:
    member: Member
    result: ReviewResult | None
    visible: bool = True  # may the user open the member page (set by the view)

    @property
    def plan(self) -> SupportPlan | None:
        if self.result is None:
            return None
        try:
            return self.result.support_plan
        except SupportPlan.DoesNotExist:
            return None


def review_grid(*, review: DemocraticReview) -> list[GridRow]:
    """Every member of the grid with their result and its support plan: two queries."""
    results = {r.member_id: r for r in review.results.select_related("support_plan").order_by()}
    return [GridRow(member, results.get(member.pk)) for member in review_members(review=review)]


def rating_counts(*, review: DemocraticReview) -> dict[str, int]:
    counts = dict(review.results.values_list("rating").annotate(n=Count("pk")).values_list("rating", "n"))
    return {rating.value: counts.get(rating.value, 0) for rating in Rating}


def review_meetings(*, branch: OrgUnit, year: int) -> QuerySet[Activity]:
    return Activity.objects.filter(
        branch=branch, kind__in=REVIEW_MEETING_KINDS, date__year=year, status=Activity.Status.HELD
    ).order_by("-date", "-pk")


def branch_review(*, branch: OrgUnit, year: int) -> DemocraticReview | None:
    return DemocraticReview.objects.select_related("branch", "meeting").filter(branch=branch, year=year).first()


def review_transitions(*, review: DemocraticReview) -> list:
    """The review's history, each row with the labels of its move and states."""
    moves = {m.name: m.label for m in MOVES}
    states = dict(State.choices)
    rows = list(review.transitions.select_related("user").order_by("at", "pk"))
    for row in rows:
        row.move_label = moves.get(row.move, row.move)
        row.from_label, row.to_label = (
            states.get(row.from_state, row.from_state),
            states.get(row.to_state, row.to_state),
        )
        row.who = user_label(row.user)
    return rows


def user_label(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else "—"


def review_plans(*, review: DemocraticReview) -> QuerySet[SupportPlan]:
    return SupportPlan.objects.filter(result__review=review).select_related("member").order_by("closed_on", "review_on")


@dataclass
class CommitteeRow:
    branch: OrgUnit
    review: DemocraticReview | None

    @property
    def counts(self) -> list[int]:
        return [getattr(self.review, rating.value, 0) if self.review else 0 for rating in Rating]


def committee_reviews(*, committee: OrgUnit, year: int) -> list[CommitteeRow]:
    """The branches under ``committee`` with their review of ``year`` and its counts per
    rating (one ``GROUP BY review``): two queries."""
    branches = OrgUnit.objects.filter(
        kind=OrgUnit.Kind.BRANCH, path__startswith=committee.path, dissolved_on__isnull=True
    ).order_by("path", "sort_order", "name")
    reviews = {
        r.branch_id: r
        for r in DemocraticReview.objects.filter(branch__path__startswith=committee.path, year=year)
        .select_related("meeting")
        .annotate(
            **RATING_COUNTS,
            open_plans=Count("results__support_plan", filter=Q(results__support_plan__closed_on__isnull=True)),
        )
    }
    return [CommitteeRow(branch, reviews.get(branch.pk)) for branch in branches]


def committee_plans(*, committee: OrgUnit, year: int) -> QuerySet[SupportPlan]:
    return (
        SupportPlan.objects.filter(result__review__branch__path__startswith=committee.path, result__review__year=year)
        .select_related("member", "result__review__branch")
        .order_by("closed_on", "review_on", "pk")
    )


# --- the member and the branch page -----------------------------------------------------


def member_results(*, member: Member) -> QuerySet[ReviewResult]:
    return (
        ReviewResult.objects.filter(member=member)
        .select_related("review__branch", "support_plan")
        .order_by("-review__year")
    )


def member_talks(*, member: Member) -> QuerySet[MemberTalk]:
    return MemberTalk.objects.filter(member=member).select_related("talked_by", "branch").order_by("-held_on", "-pk")


def overdue_talk_follow_ups(*, branch: OrgUnit, today: datetime.date) -> QuerySet[MemberTalk]:
    return (
        MemberTalk.objects.filter(branch=branch, follow_up_due__lt=today, follow_up_done_on__isnull=True)
        .select_related("member__branch")
        .order_by("follow_up_due", "pk")
    )


def open_support_plans(*, branch: OrgUnit) -> QuerySet[SupportPlan]:
    return (
        SupportPlan.objects.filter(result__review__branch=branch, closed_on__isnull=True)
        .select_related("member", "result__review")
        .order_by("review_on", "pk")
    )
