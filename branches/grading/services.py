"""Writes of the grading app: runs, committee scores, publication, talks, the year.

A run is a record with a state. It is claimed with a conditional UPDATE (queued →
running), so a duplicate delivery of its task finds nothing to claim and does nothing.
The computation runs in one transaction under a PostgreSQL advisory lock for the
committee's month; if it fails, the transaction rolls back — the previous draft is
untouched — and the run is marked failed in a transaction of its own.
"""

import datetime
import logging
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.converters import FIRST_MONTH, LAST_MONTH, month_in_range
from branches.models import OrgUnit
from branches.selectors import is_tracked, tracked_from_of
from branches.services import month_assert_open, month_label
from members.ledger.models import ScoreItem
from members.ledger.services import rule_versions_for

from . import engine
from .models import Dimension, GradingRun, ScoreInput, ScoreInputChange

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
LOCK_NAMESPACE = 0x6AD3  # the first key of grading's advisory locks

# Test hook: called inside the grading transaction just before it commits.
_before_commit = None


def progress_key(run_id: int) -> str:
    return f"grading:progress:{run_id}"


def lock_committee_month(committee: OrgUnit, month: datetime.date) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers
    key = (LOCK_NAMESPACE << 40) + (committee.pk << 17) + (month.year * 12 + month.month - 1) % (1 << 17)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        # Grading is a handful of short statements per committee: PostgreSQL's JIT
        # compilation (~10 ms a statement) would cost more than it saves.
        cursor.execute("SET LOCAL jit = off")
        # The month's aggregate (a few hundred thousand groups at a group's scale) in
        # memory rather than spilled to disk in batches.
        cursor.execute("SET LOCAL work_mem = '256MB'")


def grading_run_request(
    *,
    committee: OrgUnit,
    month: datetime.date,
    user: AbstractBaseUser | None = None,
    trigger: str = GradingRun.Trigger.BROWSER,
    request_key: str | None = None,
) -> GradingRun:
    """Record a request to grade a committee's month. With a ``request_key`` (the
    schedule's) the same request made twice is the same run."""
    if not committee.is_committee:
        raise ValidationError(_("Grading is done per party committee."))
    month = month.replace(day=1)
    if month > timezone.localdate().replace(day=1):
        raise ValidationError(_("%(month)s has not begun yet.") % {"month": month_label(month)})
    if not month_in_range(month):
        raise ValidationError(
            {
                "month": _("Choose a month from %(first)s to %(last)s.")
                % {"first": month_label(FIRST_MONTH), "last": month_label(LAST_MONTH)}
            }
        )
    tracked_from = tracked_from_of(unit=committee)
    if not is_tracked(tracked_from=tracked_from, month=month):
        raise ValidationError(
            _("%(month)s is not tracked: the system grades %(committee)s from %(first)s.")
            % {"month": month_label(month), "committee": committee.name, "first": month_label(tracked_from)}
        )
    if request_key:
        run, _created = GradingRun.objects.get_or_create(
            request_key=request_key,
            defaults={"committee": committee, "month": month, "requested_by": user, "trigger": trigger},
        )
        return run
    return GradingRun.objects.create(committee=committee, month=month, requested_by=user, trigger=trigger)


def _claim(run_id: int) -> datetime.datetime | None:
    """Claim a run: a queued one, or one left running by a worker that died (killed
    mid-run, its message redelivered). A live worker holds the run's row lock until it
    has finished, so the lock is waited for and the run taken only if it is still
    running then. The start time is the claim's token: the executor that no longer
    holds it stops."""
    token = timezone.now()
    running = GradingRun.State.RUNNING
    if GradingRun.objects.filter(pk=run_id, state=GradingRun.State.QUEUED).update(state=running, started_at=token):
        return token
    if connection.vendor != "postgresql":
        return None  # SQLite: no workers, runs are executed in process
    with transaction.atomic():
        if not GradingRun.objects.select_for_update().filter(pk=run_id, state=running).exists():
            return None
        GradingRun.objects.filter(pk=run_id).update(started_at=token)
        logger.warning("grading run %s: its worker died; graded again", run_id)
    return token


def _claim_queued(run_ids: list[int]) -> dict[int, datetime.datetime]:
    """Claim the queued runs of ``run_ids`` in one UPDATE (a month's grading requests a
    run per committee: one statement, not one each). Returns run id → its token; the
    runs not claimed here go through ``_claim``."""
    if not run_ids:
        return {}
    token = timezone.now()
    table = GradingRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, started_at = %s "
            f"WHERE state = %s AND id IN ({', '.join(['%s'] * len(run_ids))}) RETURNING id",
            # The token as the ORM stores it (SQLite keeps text; a filter compares it).
            [GradingRun.State.RUNNING, connection.ops.adapt_datetimefield_value(token), GradingRun.State.QUEUED]
            + list(run_ids),
        )
        return {run_id: token for (run_id,) in cursor.fetchall()}


def grading_run_execute(*, run_id: int) -> GradingRun | None:
    """Claim and execute a queued run. Returns None when there was nothing to claim
    (already running, done, or a duplicate delivery)."""
    runs = grading_runs_execute(run_ids=[run_id])
    return runs[0] if runs else None


def grading_runs_execute(*, run_ids: list[int]) -> list[GradingRun]:
    """Claim and execute queued runs of one month together (``grade_month`` for every
    committee): the members of all are graded in one statement, the watermarks and branch
    inputs of all in a few queries, in one transaction under every committee's lock. If
    it fails, every run fails and every previous draft is untouched. Returns the runs
    claimed and executed (none already running, done, or delivered twice). A run left
    running by a worker that died is claimed again (``_claim``)."""
    if len(set(GradingRun.objects.filter(pk__in=run_ids).values_list("month", flat=True))) > 1:
        raise ValueError("Runs executed together grade the same month.")
    tokens = _claim_queued(run_ids)
    for run_id in run_ids:
        if run_id in tokens:
            continue
        token = _claim(run_id)
        if token is None:
            logger.info("grading run %s: nothing to claim", run_id)
        else:
            tokens[run_id] = token
    if not tokens:
        return []
    runs = list(GradingRun.objects.select_related("committee").filter(pk__in=tokens).order_by("committee__path"))
    try:
        with transaction.atomic():
            # The runs' rows stay locked while they are graded: the proof that their worker
            # lives. A run whose token changed was taken over by a redelivery.
            held = dict(GradingRun.objects.select_for_update().filter(pk__in=tokens).values_list("pk", "started_at"))
            runs = [run for run in runs if held.get(run.pk) == tokens[run.pk]]
            if not runs:
                logger.info("grading runs %s: taken over by a redelivery", list(tokens))
                return []
            _grade_together(runs)
    except Exception as exc:
        logger.exception("grading runs %s failed", list(tokens))
        for run_id, token in tokens.items():
            GradingRun.objects.filter(pk=run_id, started_at=token).update(
                state=GradingRun.State.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
            )
        raise
    for run in runs:
        cache.set(progress_key(run.pk), 100, 3600)
    return runs


def _grade_together(runs: list[GradingRun]) -> None:
    month = runs[0].month
    committees = [run.committee for run in runs]
    for committee in committees:
        lock_committee_month(committee, month)

    def progress(pct):
        for run in runs:
            cache.set(progress_key(run.pk), pct, 3600)

    versions = rule_versions_for(units=committees, month=month)
    branches = engine.graded_branches_of(committees=committees, month=month)
    passes = [engine.Pass(run.committee, versions[run.committee.pk], branches[run.committee.pk], run) for run in runs]
    whole_month = engine.reads_whole_month(passes)
    # The inputs' marks are taken before the grading reads them (a change arriving in
    # between makes the draft newer than its mark: seen as stale, regraded, never the
    # reverse). The ledger's, when the members' statement reads the whole month, come
    # from that statement's own read.
    marks = engine.watermarks(
        committees=committees,
        month=month,
        branches=branches,
        versions=versions,
        ledger=engine.LedgerMarks() if whole_month else None,
    )
    ledger = []
    graded = engine.grade_passes(passes=passes, month=month, progress=progress, ledger=ledger)
    for run in runs:
        pks = [b.pk for b in branches[run.committee.pk]]
        if ledger:
            marks[run.committee.pk]["ledger"] = ledger[0].of(pks)
        run.watermark = marks[run.committee.pk]
    if _before_commit is not None:
        _before_commit()
    finished = timezone.now()
    for run in runs:
        run.rule_version = versions[run.committee.pk]
        run.branches_graded, run.members_graded = graded[run.committee.pk]
        run.state = GradingRun.State.SUCCEEDED
        run.finished_at = finished
    GradingRun.objects.bulk_update(
        runs, ["rule_version", "watermark", "branches_graded", "members_graded", "state", "finished_at"]
    )


@transaction.atomic
def score_input_set(
    *,
    branch: OrgUnit,
    month: datetime.date,
    dimension: str,
    score: Decimal | None,
    not_assessed: bool = False,
    user: AbstractBaseUser | None,
    item: ScoreItem | None = None,
) -> ScoreInput:
    """Enter (or change) a committee score for a branch's month: 0–100 with two
    decimals, or "not assessed". Which dimensions are entered, and which are scored by
    items, is the rule-set version's in force for the branch in that month: an item is
    scored from 0 to its maximum; a dimension with items takes no score of its own, only
    the "not assessed" mark for the whole dimension (lifted again with neither).
    Every value is kept in the input's history."""
    if not branch.is_branch:
        raise ValidationError(_("Scores are entered for a party branch."))
    month = month.replace(day=1)
    scheme = engine.scheme_for(unit=branch, month=month)
    if dimension not in scheme.entered:
        raise ValidationError({"dimension": _("This dimension is computed, not entered.")})
    label = Dimension(dimension).label
    if item is not None and (item.dimension != dimension or scheme.item(item.pk) is None):
        raise ValidationError(
            {
                "item": _("%(item)s is not an item of %(dimension)s in the rules in force for %(month)s.")
                % {"item": item.name, "dimension": label, "month": month_label(month)}
            }
        )
    month_assert_open(unit=branch, month=month)
    if item is not None:
        if not_assessed:
            raise ValidationError(
                {"score": _("Mark %(dimension)s not assessed as a whole, not item by item.") % {"dimension": label}}
            )
        if score is None or not Decimal("0") <= score <= item.max_score or score != score.quantize(CENT):
            raise ValidationError(
                {
                    "score": _("%(item)s is scored from 0 to %(max)s with at most two decimals.")
                    % {"item": item.name, "max": item.max_score}
                }
            )
    elif scheme.items_of(dimension):
        if not_assessed:
            score = None
        elif score is not None:
            raise ValidationError(
                {
                    "score": _("%(dimension)s is scored item by item: enter its items, or mark it not assessed.")
                    % {"dimension": label}
                }
            )
    elif not_assessed:
        score = None
    elif score is None:
        raise ValidationError({"score": _("Enter a score from 0 to 100, or mark the dimension not assessed.")})
    elif not Decimal("0") <= score <= Decimal("100") or score != score.quantize(CENT):
        raise ValidationError({"score": _("A score runs from 0 to 100 with at most two decimals.")})
    score_input, created = ScoreInput.objects.select_for_update().get_or_create(
        branch=branch,
        month=month,
        **({"item": item} if item is not None else {"dimension": dimension, "item": None}),
        defaults={"dimension": dimension, "score": score, "not_assessed": not_assessed, "entered_by": user},
    )
    if not created:
        score_input.score, score_input.not_assessed, score_input.entered_by = score, not_assessed, user
        score_input.save()
    ScoreInputChange.objects.create(score_input=score_input, score=score, not_assessed=not_assessed, entered_by=user)
    return score_input
