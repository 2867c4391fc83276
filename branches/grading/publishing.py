"""Committee input, publication (公示) and talks (谈话帮扶): their writes and reads.

* The input grid reads one page of branches and their entered scores in one query.
* ``board_publish`` refuses a draft that is missing, stale (its inputs changed since the
  run read them) or incomplete (an entered dimension missing), then — in one
  transaction, under the committee month's advisory lock — copies the draft into a new
  ``Publication`` version with two ``INSERT … SELECT`` statements and closes the month.
  Reopening is ``branches.services.month_reopen``; the next publication is version 2,
  and every version stays readable.
* A bottom-three branch of a published month needs a recorded talk; ``talk_board``
  says which have one, which are due and which are overdue.
"""

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import CommitteeMonth, OrgUnit
from branches.selectors import month_is_closed
from branches.services import month_close, month_label
from members.ledger.models import ScoreItem

from . import engine
from .groups import graded_groups
from .models import (
    BranchScore,
    Dimension,
    GradingRun,
    GroupScore,
    MemberScore,
    Publication,
    PublishedBranchScore,
    PublishedGroupScore,
    PublishedMemberScore,
    ScoreInput,
    ScoreInputChange,
    Talk,
)
from .services import lock_committee_month

GRID_PAGE_SIZE = 100  # branches per page of the input grid
MISSING_LISTED = 10  # branches named in the refusal message


def month_of(year: int, month: int) -> datetime.date:
    """The first day of ``year``-``month``; ValueError for a month that does not exist."""
    return datetime.date(year, month, 1)


# --- Committee input ---------------------------------------------------------------


@dataclass(frozen=True)
class MissingCells:
    branch: OrgUnit
    cells: list[tuple[str, ScoreItem | None]]  # (dimension, item); item None: the whole dimension
    position: int  # the branch's place in the grid, from 0

    @property
    def grid_page(self) -> int:
        return self.position // GRID_PAGE_SIZE + 1

    @property
    def dimensions(self) -> list[str]:
        """The dimensions with something missing, in board order."""
        return list(dict.fromkeys(d for d, _item in self.cells))

    @property
    def labels(self) -> list[str]:
        """Each missing cell in words: the dimension, or the dimension and the item."""
        return [cell_label(d, item) for d, item in self.cells]


def cell_label(dimension: str, item: ScoreItem | None) -> str:
    label = str(Dimension(dimension).label)
    return f"{label} · {item.name}" if item is not None else label


def grid_branches(*, committee: OrgUnit, month: datetime.date) -> list[OrgUnit]:
    """The committee's graded branches in the grid's order: sort order, then code."""
    return sorted(engine.graded_branches(committee=committee, month=month), key=lambda b: (b.sort_order, b.code))


def input_cells(
    *, branch_ids: list[int], month: datetime.date, scheme: engine.Scheme | None = None
) -> engine.EnteredScores:
    """The entered rows of some branches in a month (each dimension's own row and each
    item's): one query, whoever entered them joined in; with ``scheme``, the report-back
    scores its fed items take."""
    rows = ScoreInput.objects.filter(branch_id__in=branch_ids, month=month).select_related("entered_by")
    fed = engine.fed_scores(scheme=scheme, branch_ids=branch_ids, month=month) if scheme is not None else None
    return engine.EnteredScores(rows, fed)


def missing_inputs(
    *, committee: OrgUnit, month: datetime.date, branches: list[OrgUnit], scheme: engine.Scheme | None = None
) -> list[MissingCells]:
    """Which of ``branches`` (the committee's graded branches, in grid order) still lack
    an entered cell — a dimension scored as a whole, or an item — under the version in
    force for the month (``scheme``, read when not given). One query over the
    committee's subtree, besides the scheme's."""
    scheme = scheme or engine.scheme_for(unit=committee, month=month)
    rows = ScoreInput.objects.filter(month=month, branch__path__startswith=committee.path).values_list(
        "branch_id", "dimension", "item_id", "score", "not_assessed", named=True
    )
    entered = engine.EnteredScores(
        rows, engine.fed_scores(scheme=scheme, branch_ids=[b.pk for b in branches], month=month)
    )
    missing = []
    for position, branch in enumerate(branches):
        cells = entered.missing(scheme, branch.pk)
        if cells:
            missing.append(MissingCells(branch=branch, cells=cells, position=position))
    return missing


def input_history(*, score_input: ScoreInput) -> QuerySet[ScoreInputChange]:
    return score_input.changes.select_related("entered_by")


# --- Draft status and publication --------------------------------------------------


@dataclass
class DraftStatus:
    """Where a committee's month stands (``draft_status``). The costly parts — whether
    the draft is stale (the inputs' watermark), the graded branches and their missing
    cells — are read when first asked for: a closed month's guided flow never asks (its
    inputs can no longer change), and its board page skips them."""

    committee: OrgUnit
    month: datetime.date
    run: GradingRun | None  # the latest successful run: the draft's
    pending: GradingRun | None  # a queued or running run requested after it
    published: Publication | None  # the latest version
    closed: bool
    watermark: dict | None = None  # the month's current watermark, when already read

    @cached_property
    def branches(self) -> list[OrgUnit]:
        return grid_branches(committee=self.committee, month=self.month)

    @cached_property
    def stale(self) -> bool:
        """The inputs moved since the draft's run (then it must be regraded)."""
        run, committee, month = self.run, self.committee, self.month
        if run is None:
            return False
        draft = set(BranchScore.objects.filter(committee=committee, month=month).values_list("branch_id", "run_id"))
        watermark = self.watermark if self.watermark is not None else engine.watermark(committee=committee, month=month)
        return (
            watermark != run.watermark
            or {branch_id for branch_id, _run in draft} != {b.pk for b in self.branches}
            or any(run_id != run.pk for _branch, run_id in draft)
            or _groups_changed(committee=committee, month=month, branches=self.branches, run=run)
        )

    @cached_property
    def missing(self) -> list[MissingCells]:
        return missing_inputs(committee=self.committee, month=self.month, branches=self.branches)

    @property
    def missing_count(self) -> int:
        return sum(len(m.cells) for m in self.missing)

    @property
    def problems(self) -> list[str]:
        """Why the draft cannot be published now, in words for the committee."""
        month = month_label(self.month)
        if self.closed:
            return [
                _("%(month)s is already closed for %(committee)s. Reopen it with a reason before publishing again.")
                % {"month": month, "committee": self.committee.name}
            ]
        problems = []
        if self.run is None:
            problems.append(
                _("%(month)s has not been graded successfully yet. Grade the month first.") % {"month": month}
            )
        elif self.stale:
            problems.append(
                _(
                    "The inputs of %(month)s have changed since the last grading run (%(when)s). "
                    "Grade the month again before publishing."
                )
                % {"month": month, "when": f"{timezone.localtime(self.run.finished_at):%Y-%m-%d %H:%M}"}
            )
        if self.missing:
            names = "；".join(
                _("%(branch)s (%(cells)s)") % {"branch": m.branch.name, "cells": "、".join(m.labels)}
                for m in self.missing[:MISSING_LISTED]
            )
            if len(self.missing) > MISSING_LISTED:
                names += " " + _("and %(count)s more") % {"count": len(self.missing) - MISSING_LISTED}
            problems.append(
                _("A month cannot be published while any entered dimension is missing. Still missing: %(branches)s.")
                % {"branches": names}
            )
        return problems

    @property
    def ready(self) -> bool:
        return not self.problems


def draft_status(committee: OrgUnit, month: datetime.date, *, watermark: dict | None = None) -> DraftStatus:
    """Where a committee's month stands: its draft's run, whether the inputs have moved
    since (then the draft is stale), which entered cells are missing, the latest
    publication, and whether the month is closed. Four queries; the staleness and the
    missing cells a handful more when first asked for, whatever the number of branches.
    ``watermark``: the month's current ``engine.watermark``, when the caller has
    already read it (the home page reads its committees' together)."""
    month = month.replace(day=1)
    runs = GradingRun.objects.filter(committee=committee, month=month)
    run = runs.filter(state=GradingRun.State.SUCCEEDED).order_by("-finished_at", "-pk").first()
    pending = runs.filter(state__in=[GradingRun.State.QUEUED, GradingRun.State.RUNNING])
    if run is not None:
        pending = pending.filter(requested_at__gte=run.requested_at)
    pending = pending.order_by("-requested_at", "-pk").first()
    return DraftStatus(
        committee=committee,
        month=month,
        run=run,
        pending=pending,
        published=latest_publication(committee=committee, month=month),
        closed=month_is_closed(committee=committee, month=month),
        watermark=watermark,
    )


def draft_statuses(
    *, months: list[tuple[OrgUnit, datetime.date]], watermarks: dict | None = None
) -> dict[tuple[int, datetime.date], tuple[DraftStatus, GradingRun | None]]:
    """``draft_status`` of several committee months, and each month's latest run
    whatever its state (the guided flow shows it), in three queries however many: the
    months' runs, their publications and which are closed. ``watermarks``:
    ``(committee id, month) → engine.watermark`` already read."""
    months = [(committee, month.replace(day=1)) for committee, month in months]
    if not months:
        return {}
    watermarks = watermarks or {}
    committee_ids = {committee.pk for committee, _month in months}
    month_set = {month for _committee, month in months}
    runs: dict[tuple[int, datetime.date], list[GradingRun]] = {}
    for run in GradingRun.objects.filter(committee_id__in=committee_ids, month__in=month_set):
        runs.setdefault((run.committee_id, run.month), []).append(run)
    published: dict[tuple[int, datetime.date], Publication] = {}
    for publication in (
        Publication.objects.filter(committee_id__in=committee_ids, month__in=month_set)
        .select_related("published_by")
        .order_by("version")
    ):
        published[(publication.committee_id, publication.month)] = publication  # the last version wins
    closed = set(
        CommitteeMonth.objects.filter(
            committee_id__in=committee_ids, month__in=month_set, state=CommitteeMonth.State.CLOSED
        ).values_list("committee_id", "month")
    )
    result = {}
    for committee, month in months:
        key = (committee.pk, month)
        of_month = runs.get(key, [])
        # As ``draft_status`` orders them: the latest succeeded run by finish, then id;
        # a pending run requested at or after it, the latest by request, then id.
        succeeded = [r for r in of_month if r.state == GradingRun.State.SUCCEEDED]
        run = max(succeeded, key=lambda r: (r.finished_at is not None, r.finished_at or 0, r.pk), default=None)
        pending = [
            r
            for r in of_month
            if r.state in (GradingRun.State.QUEUED, GradingRun.State.RUNNING)
            and (run is None or r.requested_at >= run.requested_at)
        ]
        status = DraftStatus(
            committee=committee,
            month=month,
            run=run,
            pending=max(pending, key=lambda r: (r.requested_at, r.pk), default=None),
            published=published.get(key),
            closed=key in closed,
            watermark=watermarks.get(key),
        )
        result[key] = (status, max(of_month, key=lambda r: (r.requested_at, r.pk), default=None))
    return result


def _groups_changed(*, committee: OrgUnit, month: datetime.date, branches: list[OrgUnit], run: GradingRun) -> bool:
    """Whether the party groups to grade differ from the group draft (a group set up or
    dissolved since the run, which no input's watermark shows). Two queries. A group's row
    keeps the run that last changed its values, so an older run on a row is no sign of
    staleness: the latest run graded every group of the draft, and left those unchanged."""
    draft = set(GroupScore.objects.filter(committee=committee, month=month).values_list("group_id", flat=True))
    return draft != {g.pk for g in graded_groups(branches=branches, month=month)}


def _columns(model, *, exclude: tuple[str, ...]) -> list[str]:
    return [
        connection.ops.quote_name(f.column)
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in exclude
    ]


def _copy_draft(*, publication: Publication) -> tuple[int, int]:
    """Copy the committee's draft into ``publication``: three set-based INSERT … SELECT
    statements (branches, members, party groups), whatever the number of members.
    Returns (branches, members) copied."""
    q = connection.ops.quote_name
    branch_cols = ", ".join(_columns(PublishedBranchScore, exclude=("publication", "branch")))
    member_cols = ", ".join(_columns(PublishedMemberScore, exclude=("publication", "member", "branch")))
    group_cols = ", ".join(_columns(PublishedGroupScore, exclude=("publication", "group", "branch")))
    params = [publication.pk, publication.committee_id, publication.month]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {q(PublishedBranchScore._meta.db_table)} (publication_id, branch_id, {branch_cols})
                SELECT %s, branch_id, {branch_cols} FROM {q(BranchScore._meta.db_table)}
                WHERE committee_id = %s AND month = %s""",
            params,
        )
        branches = cursor.rowcount
        cursor.execute(
            f"""INSERT INTO {q(PublishedMemberScore._meta.db_table)}
                    (publication_id, member_id, branch_id, {member_cols})
                SELECT %s, member_id, branch_id, {member_cols} FROM {q(MemberScore._meta.db_table)}
                WHERE committee_id = %s AND month = %s""",
            params,
        )
        members = cursor.rowcount
        cursor.execute(
            f"""INSERT INTO {q(PublishedGroupScore._meta.db_table)}
                    (publication_id, group_id, branch_id, {group_cols})
                SELECT %s, group_id, branch_id, {group_cols} FROM {q(GroupScore._meta.db_table)}
                WHERE committee_id = %s AND month = %s""",
            params,
        )
    return branches, members


@transaction.atomic
def board_publish(
    *, committee: OrgUnit, month: datetime.date, user: AbstractBaseUser | None, note: str = ""
) -> Publication:
    """Publish (公示) a committee's draft for a month: a new version holding an exact copy
    of the draft, and the month closed. Refused while the draft is missing, stale or
    incomplete, or the month is already closed."""
    if not committee.is_committee:
        raise ValidationError(_("Rankings are published per party committee."))
    month = month.replace(day=1)
    # A grading run of this month holds the same lock: publishing waits for it to finish.
    lock_committee_month(committee, month)
    status = draft_status(committee, month)
    if status.problems:
        raise ValidationError(status.problems)
    last = Publication.objects.filter(committee=committee, month=month).aggregate(v=Max("version"))["v"] or 0
    publication = Publication.objects.create(
        committee=committee, month=month, version=last + 1, run=status.run, published_by=user, note=note.strip()
    )
    _copy_draft(publication=publication)
    reason = _("Ranking published (version %(version)s).") % {"version": publication.version}
    month_close(committee=committee, month=month, user=user, reason=f"{reason} {note.strip()}".strip())
    return publication


def latest_publication(*, committee: OrgUnit, month: datetime.date) -> Publication | None:
    return (
        Publication.objects.filter(committee=committee, month=month.replace(day=1))
        .select_related("published_by")
        .order_by("-version")
        .first()
    )


def publications_of(*, committee: OrgUnit, month: datetime.date) -> QuerySet[Publication]:
    return Publication.objects.filter(committee=committee, month=month.replace(day=1)).select_related(
        "published_by", "run"
    )


def previous_publication(*, publication: Publication) -> Publication | None:
    return (
        Publication.objects.filter(
            committee_id=publication.committee_id, month=publication.month, version__lt=publication.version
        )
        .select_related("published_by")
        .order_by("-version")
        .first()
    )


DIFF_FIELDS = (
    ("total", gettext_lazy("Total")),
    ("rank", gettext_lazy("Rank")),
    ("basics", Dimension.BASICS.label),
    ("committee_work", Dimension.COMMITTEE_WORK.label),
    ("production", Dimension.PRODUCTION.label),
    ("membership", Dimension.MEMBERSHIP.label),
    ("other", Dimension.OTHER.label),
    ("bottom_three", gettext_lazy("Bottom three")),
)


@dataclass(frozen=True)
class ValueChange:
    field: str
    label: str
    before: object
    after: object

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class BranchDiff:
    branch: OrgUnit
    before: PublishedBranchScore | None
    after: PublishedBranchScore | None
    values: list[ValueChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before is None or self.after is None or any(v.changed for v in self.values)


@dataclass
class PublicationDiff:
    old: Publication | None
    new: Publication
    branches: list[BranchDiff]
    # The new version's member rows whose total differs from the old (annotated with
    # ``old_total``, None for a member the old version did not have), and the old
    # version's members missing from the new. Querysets: the page paginates them.
    members: QuerySet[PublishedMemberScore]
    members_gone: QuerySet[PublishedMemberScore]

    @property
    def changed_branches(self) -> list[BranchDiff]:
        return [b for b in self.branches if b.changed]


def publication_diff(old: Publication | None, new: Publication) -> PublicationDiff:
    """What changed from ``old`` to ``new``: per branch, the total, rank and each
    dimension before and after; and the members whose total changed (in SQL)."""
    before = {r.branch_id: r for r in old.branch_scores.select_related("branch")} if old else {}
    after = {r.branch_id: r for r in new.branch_scores.select_related("branch")}
    branches = []
    for branch_id in sorted(after.keys() | before.keys(), key=lambda i: _branch_order(after.get(i), before.get(i))):
        b, a = before.get(branch_id), after.get(branch_id)
        values = [
            ValueChange(name, str(label), getattr(b, name) if b else None, getattr(a, name) if a else None)
            for name, label in DIFF_FIELDS
        ]
        branches.append(BranchDiff(branch=(a or b).branch, before=b, after=a, values=values))
    if old is None:
        members = gone = PublishedMemberScore.objects.none()
    else:
        old_rows = old.member_scores.filter(member_id=OuterRef("member_id"))
        members = (
            new.member_scores.annotate(old_total=Subquery(old_rows.values("total")[:1]))
            .filter(Q(old_total__isnull=True) | Q(old_total__lt=F("total")) | Q(old_total__gt=F("total")))
            .select_related("member", "branch")
            .order_by("branch__path", "member__name", "pk")
        )
        gone = (
            old.member_scores.exclude(member_id__in=new.member_scores.values("member_id"))
            .select_related("member", "branch")
            .order_by("branch__path", "member__name", "pk")
        )
    return PublicationDiff(old=old, new=new, branches=branches, members=members, members_gone=gone)


def _branch_order(after: PublishedBranchScore | None, before: PublishedBranchScore | None) -> tuple:
    row = after or before
    return (after is None, row.rank, row.branch.name)


# --- Talks (谈话帮扶) ----------------------------------------------------------------


class TalkState(models.TextChoices):
    RECORDED = "recorded", gettext_lazy("Talk recorded")
    DUE = "due", gettext_lazy("Talk due")
    OVERDUE = "overdue", gettext_lazy("Talk overdue")


@dataclass
class TalkDue:
    """A bottom-three branch of a published month and its talk."""

    month: datetime.date
    branch: OrgUnit
    score: PublishedBranchScore  # in the month's latest publication
    flagged_on: datetime.date  # the day a publication first flagged it
    due_on: datetime.date
    talks: list[Talk]
    state: str

    @property
    def overdue(self) -> bool:
        return self.state == TalkState.OVERDUE


def talk_due_days() -> int:
    return int(getattr(settings, "GRADING_TALK_DUE_DAYS", 15))


def talk_board(committee: OrgUnit, today: datetime.date, *, month: datetime.date | None = None) -> list[TalkDue]:
    """Every branch flagged bottom three in the latest publication of a month (or of
    ``month``), newest month first, with its talks and whether the talk is recorded,
    due (by ``flagged_on`` + GRADING_TALK_DUE_DAYS) or overdue. Three queries."""
    publications = Publication.objects.filter(committee=committee)
    flagged = PublishedBranchScore.objects.filter(publication__committee=committee, bottom_three=True)
    talks_qs = Talk.objects.filter(committee=committee)
    if month is not None:
        month = month.replace(day=1)
        publications = publications.filter(month=month)
        flagged = flagged.filter(publication__month=month)
        talks_qs = talks_qs.filter(month=month)
    by_id = {p.pk: p for p in publications.order_by("month", "version")}
    latest = {p.month: p for p in by_id.values()}  # ordered by version: the last wins
    first_flagged: dict[tuple[datetime.date, int], datetime.date] = {}
    current: dict[tuple[datetime.date, int], PublishedBranchScore] = {}
    for row in flagged.select_related("branch"):
        publication = by_id[row.publication_id]
        key = (publication.month, row.branch_id)
        day = timezone.localtime(publication.published_at).date()
        first_flagged[key] = min(first_flagged.get(key, day), day)
        if latest[publication.month].pk == publication.pk:
            current[key] = row
    talks: dict[tuple[datetime.date, int], list[Talk]] = {}
    for talk in talks_qs.select_related("recorded_by").order_by("held_on", "pk"):
        talks.setdefault((talk.month, talk.branch_id), []).append(talk)
    days = datetime.timedelta(days=talk_due_days())
    board = []
    for key, row in current.items():
        due_on = first_flagged[key] + days
        recorded = talks.get(key, [])
        if recorded:
            state = TalkState.RECORDED
        else:
            state = TalkState.OVERDUE if today > due_on else TalkState.DUE
        board.append(
            TalkDue(
                month=key[0],
                branch=row.branch,
                score=row,
                flagged_on=first_flagged[key],
                due_on=due_on,
                talks=recorded,
                state=state,
            )
        )
    board.sort(key=lambda t: (-t.month.toordinal(), t.score.rank, t.branch.name))
    return board


@dataclass
class TalkToBe:
    """A bottom-three branch of the draft: publishing makes its talk due by ``due_on``."""

    branch: OrgUnit
    rank: int
    total: object
    due_on: datetime.date


@dataclass
class PublishPreview:
    """What publishing the draft now would do, for the confirmation page."""

    committee: OrgUnit
    month: datetime.date
    version: int  # the version it would become
    branches: int  # on the board, and seeing it
    talks: list[TalkToBe]

    @property
    def due_dates(self) -> list[datetime.date]:
        return sorted({t.due_on for t in self.talks})


def publish_preview(committee: OrgUnit, month: datetime.date, today: datetime.date) -> PublishPreview:
    """The draft's bottom three and the day each talk would be due, as ``talk_board``
    will count it after publication: from the first publication of the month that
    flagged the branch (today for a branch flagged for the first time). A branch whose
    talk for the month is already recorded owes none. Four queries."""
    month = month.replace(day=1)
    rows = BranchScore.objects.filter(committee=committee, month=month)
    flagged = list(rows.filter(bottom_three=True).select_related("branch").order_by("rank", "branch__name"))
    first_flagged = {
        branch_id: timezone.localtime(first).date()
        for branch_id, first in PublishedBranchScore.objects.filter(
            publication__committee=committee, publication__month=month, bottom_three=True
        )
        .values("branch_id")
        .annotate(first=models.Min("publication__published_at"))
        .values_list("branch_id", "first")
    }
    talked = set(Talk.objects.filter(committee=committee, month=month).values_list("branch_id", flat=True))
    days = datetime.timedelta(days=talk_due_days())
    last = Publication.objects.filter(committee=committee, month=month).aggregate(v=Max("version"))["v"] or 0
    return PublishPreview(
        committee=committee,
        month=month,
        version=last + 1,
        branches=rows.count(),
        talks=[
            TalkToBe(
                branch=row.branch,
                rank=row.rank,
                total=row.total,
                due_on=first_flagged.get(row.branch_id, today) + days,
            )
            for row in flagged
            if row.branch_id not in talked
        ],
    )


def overdue_talks(committee: OrgUnit, today: datetime.date) -> list[TalkDue]:
    """Flagged branches of published months without a talk whose due date has passed."""
    return [t for t in talk_board(committee, today) if t.overdue]


@transaction.atomic
def talk_record(
    *,
    committee: OrgUnit,
    month: datetime.date,
    branch: OrgUnit,
    held_on: datetime.date,
    talked_by: str,
    talked_with: str,
    notes: str,
    actions: str,
    user: AbstractBaseUser | None,
) -> Talk:
    """Record a talk (谈话帮扶) with a branch flagged bottom three in the month's latest
    publication. Talks do not touch points, so a closed month takes them too."""
    month = month.replace(day=1)
    latest = latest_publication(committee=committee, month=month)
    if latest is None:
        raise ValidationError(
            _("%(month)s has not been published: talks follow a published ranking.") % {"month": month_label(month)}
        )
    if not latest.branch_scores.filter(branch=branch, bottom_three=True).exists():
        raise ValidationError(
            _("%(branch)s is not in the bottom three of the ranking published for %(month)s.")
            % {"branch": branch.name, "month": month_label(month)}
        )
    errors: dict[str, str] = {}
    first = Publication.objects.filter(committee=committee, month=month).order_by("version").first()
    earliest = timezone.localtime(first.published_at).date().replace(day=1)
    if held_on < earliest:
        errors["held_on"] = _("A talk about %(month)s cannot be dated before %(day)s.") % {
            "month": month_label(month),
            "day": earliest.isoformat(),
        }
    elif held_on > timezone.localdate():
        errors["held_on"] = _("A talk cannot be dated in the future.")
    for name, value in (("talked_by", talked_by), ("talked_with", talked_with)):
        if not value.strip():
            errors[name] = _("Say who took part in the talk.")
    if not notes.strip():
        errors["notes"] = _("Write down what was said.")
    if not actions.strip():
        errors["actions"] = _("Write down the actions agreed.")
    if errors:
        raise ValidationError(errors)
    return Talk.objects.create(
        committee=committee,
        month=month,
        branch=branch,
        held_on=held_on,
        talked_by=talked_by.strip(),
        talked_with=talked_with.strip(),
        notes=notes.strip(),
        actions=actions.strip(),
        recorded_by=user,
    )
