"""The workbench: what each role has to do today, read from the apps' selectors.

One function per role's panel. Each reads a fixed number of queries per branch or
committee it shows (a secretary has one or two branches, committee staff one or two
committees), never one per member or activity: the home page's tests assert the counts.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone

from branches.activities.compliance import Status, branch_month_compliance, branch_training_report, set_day_in
from branches.activities.selectors import today_sign_ins
from branches.choices import ActivityKind
from branches.grading import engine, publishing
from branches.grading.boards import Movement, movement
from branches.grading.forecast import Forecast, ForecastRow, month_forecast
from branches.grading.loop import LoopMonth, loop_month
from branches.grading.models import GradingRun, Publication, PublishedBranchScore
from branches.models import CommitteeMonth, OrgUnit
from branches.projects.models import Milestone, Project
from branches.projects.selectors import approval_queue
from branches.reportback.selectors import setup_of, standing_draw
from branches.selectors import committee_for, committees_for, is_tracked, terms_expiring, tracked_from_for
from members.commitments.models import Period
from members.commitments.selectors import period_summary
from members.commitments.services import check_month
from members.ledger.services import rule_version_for
from members.models import Member
from members.reviews.models import MemberTalk
from members.reviews.selectors import open_support_plans
from members.selectors import conversions_due
from members.suggestions.models import OPEN_STATES, Suggestion

ONE_PLACE = Decimal("0.1")
DEFAULT_THEMED_DAY = 21
LOOP_MONTHS = 3  # the committee panel: this month and the two before
FOLLOW_UP_DAYS = 7  # talk follow-ups due this soon are shown with the overdue ones
MILESTONE_DAYS = 14  # project milestones due this soon are shown with the overdue ones


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (month - datetime.timedelta(days=1)).replace(day=1)


# --- secretary ----------------------------------------------------------------------


@dataclass
class Birthday:
    member: Member
    day: datetime.date  # this year's anniversary
    years: int


@dataclass
class PaceRow:
    member: Member
    hours: Decimal
    expected: Decimal  # what the pace asks for by today
    requirement: Decimal  # the year's (pro-rated) requirement

    @property
    def shortfall(self) -> Decimal:
        return self.expected - self.hours


@dataclass
class Standing:
    month: datetime.date
    rank: int
    total: Decimal
    graded: int
    bottom_three: bool
    movement: Movement | None  # None: no board the month before


@dataclass
class CommitmentsDue:
    period: str  # Period: mid-year or year-end check
    month: datetime.date  # the check's month
    unchecked: int
    year: int

    @property
    def label(self) -> str:
        return str(Period(self.period).label)


@dataclass
class SecretaryPanel:
    branch: OrgUnit
    today: datetime.date
    committee: OrgUnit | None
    held: list = field(default_factory=list)  # ComplianceItem met this month
    due: list = field(default_factory=list)  # ComplianceItem still due
    themed_day: datetime.date | None = None
    themed_day_held: bool = False
    birthdays: list[Birthday] = field(default_factory=list)
    conversions: list[Member] = field(default_factory=list)
    pace_fraction: Decimal = Decimal("0")
    behind: list[PaceRow] = field(default_factory=list)
    talk_follow_ups: list = field(default_factory=list)
    support_plans: list = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    commitment_checks: list[CommitmentsDue] = field(default_factory=list)
    today_activities: list = field(default_factory=list)  # with their QR sign-ins so far
    last_month: Standing | None = None
    forecast: Forecast | None = None
    forecast_row: ForecastRow | None = None

    @property
    def days_to_themed_day(self) -> int | None:
        return None if self.themed_day is None else (self.themed_day - self.today).days

    @property
    def days_left_in_month(self) -> int:
        following = (self.today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        return (following - self.today).days - 1

    @property
    def birthday_activity_query(self) -> str:
        """The activity form pre-filled for a 政治生日 activity this month."""
        day = self.themed_day if self.themed_day and self.themed_day >= self.today else self.today
        return f"branch={self.branch.pk}&kind={ActivityKind.THEMED_DAY}&date={day:%Y-%m-%d}&title=政治生日"

    @property
    def pace_percent(self) -> int:
        return int((self.pace_fraction * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    @property
    def at_risk(self) -> bool:
        return bool(self.forecast_row and self.forecast_row.bottom_three)


def year_elapsed_fraction(*, today: datetime.date, tracked_from: datetime.date | None) -> Decimal:
    """How much of the year's tracked part has passed by the end of ``today`` (0–1):
    the pace a member's class hours are held to. A committee tracked from July has its
    year from July 1."""
    start = datetime.date(today.year, 1, 1)
    if tracked_from is not None and tracked_from.year == today.year:
        start = tracked_from
    if tracked_from is not None and tracked_from.year > today.year:
        return Decimal("0")
    end = datetime.date(today.year, 12, 31)
    if today < start:
        return Decimal("0")
    return Decimal((today - start).days + 1) / Decimal((end - start).days + 1)


def training_pace(*, branch: OrgUnit, today: datetime.date) -> tuple[Decimal, list[PaceRow]]:
    """Members behind their class hours at this point of the year: the year's requirement
    (pro-rated as the training report does) times the elapsed fraction of the tracked
    year, against the hours attended so far. Those furthest behind first."""
    report = branch_training_report(branch=branch, year=today.year, today=today)
    fraction = year_elapsed_fraction(today=today, tracked_from=tracked_from_for(units=[branch])[branch.pk])
    rows = []
    for row in report.rows:
        if row.requirement is None:
            continue
        expected = (row.requirement * fraction).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)
        if row.hours < expected:
            rows.append(PaceRow(row.member, row.hours, expected, row.requirement))
    rows.sort(key=lambda r: (-r.shortfall, r.member.employee_no))
    return fraction, rows


def political_birthdays(*, branch: OrgUnit, today: datetime.date) -> list[Birthday]:
    """The branch's current members who joined the Party in this calendar month of an
    earlier year, by day. One query."""
    members = Member.objects.filter(
        branch=branch, left_on__isnull=True, joined_on__month=today.month, joined_on__year__lt=today.year
    ).order_by("joined_on__day", "name")
    birthdays = []
    for member in members:
        day = set_day_in(today, member.joined_on.day)  # 29 February in a common year: the 28th
        birthdays.append(Birthday(member, today.replace(day=day), today.year - member.joined_on.year))
    return birthdays


def talk_follow_ups_due(*, branch: OrgUnit, today: datetime.date, within_days: int = FOLLOW_UP_DAYS):
    """Talks with members whose follow-up is overdue or due within ``within_days``,
    soonest first (the reviews app's ``overdue_talk_follow_ups`` and the week ahead)."""
    return (
        MemberTalk.objects.filter(
            branch=branch,
            follow_up_due__lte=today + datetime.timedelta(days=within_days),
            follow_up_done_on__isnull=True,
        )
        .select_related("member")
        .order_by("follow_up_due", "pk")
    )


def milestones_due(*, branch: OrgUnit, today: datetime.date, within_days: int = MILESTONE_DAYS):
    """Milestones of the branch's projects under way that are not yet accepted and are
    overdue or due within ``within_days``, soonest first. One query."""
    return (
        Milestone.objects.filter(
            project__branch=branch,
            project__state=Project.State.ACTIVE,
            due_on__lte=today + datetime.timedelta(days=within_days),
        )
        .exclude(state=Milestone.State.ACCEPTED)
        .select_related("project")
        .order_by("due_on", "pk")
    )


def commitments_due(*, branch: OrgUnit, today: datetime.date) -> list[CommitmentsDue]:
    """The year's commitment checks (承诺践诺: mid-year and year-end, in the months the
    rule-set version names) whose month has come and that still have commitments
    without a result."""
    due = []
    for period in Period.values:
        try:
            month = check_month(branch=branch, year=today.year, period=period)
        except ValidationError:
            return []  # no rule set in force: no check months
        if month > first_of_month(today):
            continue
        unchecked = period_summary(branch=branch, year=today.year, period=period).unchecked
        if unchecked:
            due.append(CommitmentsDue(period, month, unchecked, today.year))
    return due


def published_standing(*, committee: OrgUnit, branch: OrgUnit, month: datetime.date) -> Standing | None:
    """The branch's place on the latest published board of ``month`` and its movement
    against the latest board of the month before. Two queries."""
    before = previous_month(month)
    latest = {}
    for publication in Publication.objects.filter(committee=committee, month__in=[month, before]).order_by("version"):
        latest[publication.month] = publication.pk  # the last version wins
    if month not in latest:
        return None
    rows = PublishedBranchScore.objects.filter(publication_id__in=latest.values()).values_list(
        "publication_id", "branch_id", "rank", "total", "bottom_three"
    )
    this, previous, graded = None, None, 0
    for publication_id, branch_id, rank, total, bottom_three in rows:
        if publication_id == latest[month]:
            graded += 1
            if branch_id == branch.pk:
                this = (rank, total, bottom_three)
        elif branch_id == branch.pk:
            previous = rank
    if this is None:
        return None
    rank, total, bottom_three = this
    moved = movement(rank, previous) if before in latest else None
    return Standing(month, rank, total, graded, bottom_three, moved)


def secretary_panel(*, branch: OrgUnit, today: datetime.date | None = None, forecast: bool = True) -> SecretaryPanel:
    today = today or timezone.localdate()
    month = first_of_month(today)
    committee = committee_for(unit=branch)
    panel = SecretaryPanel(branch=branch, today=today, committee=committee)
    items = branch_month_compliance(branch=branch, month=month, today=today)
    panel.held = [i for i in items if i.status == Status.MET]
    panel.due = [i for i in items if i.status != Status.MET]
    themed = next((i for i in items if i.requirement.kind == ActivityKind.THEMED_DAY), None)
    if themed is not None and themed.requirement.themed_day is not None:
        day = themed.requirement.themed_day
        panel.themed_day_held = themed.status == Status.MET
    else:
        try:
            day = rule_version_for(unit=branch, month=month).themed_day or DEFAULT_THEMED_DAY
        except ValidationError:
            day = DEFAULT_THEMED_DAY
    panel.themed_day = month.replace(day=set_day_in(month, day))
    panel.birthdays = political_birthdays(branch=branch, today=today)
    panel.today_activities = list(today_sign_ins(branch=branch, today=today))
    branch_members = Member.objects.filter(branch=branch)
    panel.conversions = list(conversions_due(members=branch_members, today=today)[:20])
    panel.pace_fraction, panel.behind = training_pace(branch=branch, today=today)
    panel.talk_follow_ups = list(talk_follow_ups_due(branch=branch, today=today)[:20])
    panel.support_plans = list(open_support_plans(branch=branch)[:20])
    panel.milestones = list(milestones_due(branch=branch, today=today)[:20])
    panel.commitment_checks = commitments_due(branch=branch, today=today)
    panel.suggestions = list(
        Suggestion.objects.filter(branch=branch, state__in=OPEN_STATES).order_by("submitted_on", "pk")[:20]
    )
    if committee is not None:
        # The latest published board before this month: last month's, or, while last
        # month is still a draft, the one before.
        published = (
            Publication.objects.filter(committee=committee, month__lt=month)
            .order_by("-month")
            .values_list("month", flat=True)
            .first()
        )
        if published is not None:
            panel.last_month = published_standing(committee=committee, branch=branch, month=published)
        if forecast:
            panel.forecast = month_forecast(committee=committee, month=month, recent=True)
            panel.forecast_row = panel.forecast.row(branch.pk) if panel.forecast else None
    return panel


# --- committee staff ----------------------------------------------------------------

__all__ = ["LoopMonth", "loop_month"]  # the loop of a month lives with grading


@dataclass
class CommitteePanel:
    committee: OrgUnit
    months: list[LoopMonth]
    talks_due: list = field(default_factory=list)  # TalkDue not recorded, every month
    suggestions_waiting: int = 0
    forecast: Forecast | None = None  # this month so far
    projects_waiting: int = 0  # applications to approve
    reportback_set_up: bool = False  # the committee runs 月述职
    draw: object | None = None  # this month's standing report-back draw, if drawn
    milestones_waiting: int = 0  # milestones submitted for acceptance
    at_risk: list[OrgUnit] = field(default_factory=list)  # in the forecast's bottom three


def _loop_months(*, committee: OrgUnit, today: datetime.date) -> list[datetime.date]:
    """This month and the ones before it that the committee tracks, newest first."""
    tracked_from = tracked_from_for(units=[committee])[committee.pk]
    months, month = [], first_of_month(today)
    for _step in range(LOOP_MONTHS):
        if is_tracked(tracked_from=tracked_from, month=month):
            months.append(month)
        month = previous_month(month)
    return months


def committee_forecast(
    *, committee: OrgUnit, today: datetime.date, watermark: dict | None = None
) -> tuple[Forecast | None, list[OrgUnit]]:
    """This month's forecast of ``committee`` (a minute old at most) and its branches in
    the bottom three, by rank. One query when some are."""
    forecast = month_forecast(committee=committee, month=first_of_month(today), watermark=watermark, recent=True)
    risky = [row.branch_id for row in forecast.rows if row.bottom_three] if forecast else []
    at_risk = sorted(OrgUnit.objects.filter(pk__in=risky), key=lambda b: forecast.row(b.pk).rank) if risky else []
    return forecast, at_risk


def committee_panel(
    *, committee: OrgUnit, today: datetime.date | None = None, watermarks: dict | None = None, forecast: bool = True
) -> CommitteePanel:
    """``watermarks``: ``(committee id, month) → engine.watermark`` already read (see
    ``committee_panels``); what is not there is read here. ``forecast=False``: without
    this month's forecast (the home page reads it per request, ``partybuild/panels.py``)."""
    today = today or timezone.localdate()
    watermarks = watermarks or {}
    months = _loop_months(committee=committee, today=today)
    this_month = first_of_month(today)
    talks = publishing.talk_board(committee, today)
    forecast_, at_risk = (
        committee_forecast(committee=committee, today=today, watermark=watermarks.get((committee.pk, this_month)))
        if forecast
        else (None, [])
    )
    statuses = publishing.draft_statuses(months=[(committee, m) for m in months], watermarks=watermarks)
    projects, milestones = approval_queue(committee=committee)
    setup = setup_of(committee=committee)
    return CommitteePanel(
        committee=committee,
        reportback_set_up=setup is not None,
        draw=standing_draw(setup=setup, month=this_month) if setup is not None else None,
        projects_waiting=projects.count(),
        milestones_waiting=milestones.count(),
        forecast=forecast_,
        at_risk=at_risk,
        months=[
            loop_month(
                committee=committee,
                month=m,
                today=today,
                talks=talks,
                status=statuses[(committee.pk, m)][0],
                last_run=statuses[(committee.pk, m)][1],
            )
            for m in months
        ],
        talks_due=[t for t in talks if t.state != publishing.TalkState.RECORDED][:20],
        suggestions_waiting=Suggestion.objects.filter(
            branch__path__startswith=committee.path, state__in=OPEN_STATES
        ).count(),
    )


def committee_panels(
    *, committees: list[OrgUnit], today: datetime.date | None = None, forecast: bool = True
) -> list[CommitteePanel]:
    """The panels of several committees (a staff member of more than one), their
    inputs' watermarks read together: one pass over each month's inputs for all of
    them, not one per committee and panel."""
    today = today or timezone.localdate()
    loops = {c.pk: _loop_months(committee=c, today=today) for c in committees}
    # A loop month's draft status reads its watermark only when the month has a draft
    # (a succeeded run) and is still open (a closed month's inputs cannot change, and
    # its loop does not ask); the forecast reads this month's unless it made one recently.
    loop_months = {m for months in loops.values() for m in months}
    graded = set(
        GradingRun.objects.filter(committee__in=committees, month__in=loop_months, state=GradingRun.State.SUCCEEDED)
        .values_list("committee_id", "month")
        .distinct()
    ) - set(
        CommitteeMonth.objects.filter(
            committee__in=committees, month__in=loop_months, state=CommitteeMonth.State.CLOSED
        ).values_list("committee_id", "month")
    )
    by_month: dict[datetime.date, list[OrgUnit]] = {}
    for committee in committees:
        for month in loops[committee.pk]:
            if (committee.pk, month) in graded:
                by_month.setdefault(month, []).append(committee)
    watermarks = {
        (committee_id, month): mark
        for month, members in by_month.items()
        for committee_id, mark in engine.watermarks(committees=members, month=month).items()
    }
    return [committee_panel(committee=c, today=today, watermarks=watermarks, forecast=forecast) for c in committees]


@dataclass
class OverdueTerm:
    term: object
    committee: OrgUnit | None


def overdue_terms(*, units, today: datetime.date, limit: int = 20) -> list[OverdueTerm]:
    """Branches whose current term has ended (已逾期), each with its committee. Two queries."""
    terms = list(terms_expiring(units=units, today=today, within_days=0).filter(ends_on__lt=today)[:limit])
    committees = committees_for(units=[t.branch for t in terms])
    return [OverdueTerm(t, committees.get(t.branch.pk)) for t in terms]


# --- administrator ------------------------------------------------------------------


@dataclass
class AdminPanel:
    users_without_role: list
    report_counts: list[tuple[str, int]]  # (state label, files)
    reports: list
    failed_runs: list
    schedules: list


def admin_panel(*, limit: int = 10) -> AdminPanel:
    from django_celery_beat.models import PeriodicTask

    from branches.reports.models import ReportFile

    users = list(
        get_user_model()
        # A member's own login (linked to their member record) needs no role.
        .objects.filter(is_active=True, role_bindings__isnull=True, member__isnull=True, is_superuser=False)
        .order_by("-date_joined", "-pk")[:limit]
    )
    counts = ReportFile.objects.aggregate(
        **{state: Count("pk", filter=Q(state=state)) for state in ReportFile.State.values}
    )
    return AdminPanel(
        users_without_role=users,
        report_counts=[(label, counts[value]) for value, label in ReportFile.State.choices],
        reports=list(ReportFile.objects.select_related("committee", "requested_by")[:limit]),
        failed_runs=list(
            GradingRun.objects.filter(state=GradingRun.State.FAILED)
            .select_related("committee")
            .order_by("-requested_at", "-pk")[:limit]
        ),
        schedules=list(PeriodicTask.objects.select_related("crontab", "interval").order_by("name")),
    )
