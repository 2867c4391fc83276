"""What a new rule-set version would do to a committee's last graded month (影响预览).

Before a committee saves a version it sees the month it last graded graded again under
the new version — totals and ranks side by side with the board as it stands, and the
branches that would enter or leave the bottom three. The new version is created and the
month graded by the same service and engine a real run uses, inside a transaction that
is then rolled back: the version, the scratch run and the draft rows never reach the
database, and other users never see them (they read the committed draft meanwhile). The
month's advisory lock is held for the moment it takes, like a grading run's.

A version that asks for something the committee has not entered yet (new scored items,
basics entered by the committee) counts those cells as 0, as a draft does; the preview
says how many such cells each branch has.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import OrgUnit
from branches.selectors import is_tracked, tracked_from_for
from members.ledger.models import RuleSet
from members.ledger.rule_services import rule_set_version_create
from members.ledger.services import rule_versions_for

from . import boards, engine
from .models import BranchScore, GradingRun
from .services import lock_committee_month


@dataclass(frozen=True)
class Standing:
    total: Decimal
    rank: int
    bottom_three: bool


@dataclass
class ImpactRow:
    branch: OrgUnit
    before: Standing | None  # None: not on the board as it stands (a new branch)
    after: Standing
    missing_cells: int = 0  # cells the new version asks for that nobody has entered yet

    @property
    def delta(self) -> Decimal | None:
        return None if self.before is None else self.after.total - self.before.total

    @property
    def rank_change(self) -> int | None:
        """Places up (positive) or down (negative)."""
        return None if self.before is None else self.before.rank - self.after.rank

    @property
    def enters_bottom_three(self) -> bool:
        return self.after.bottom_three and not (self.before and self.before.bottom_three)

    @property
    def leaves_bottom_three(self) -> bool:
        return bool(self.before and self.before.bottom_three) and not self.after.bottom_three


@dataclass
class Impact:
    committee: OrgUnit
    month: datetime.date
    publication_version: int | None  # the board compared with: a publication, or the draft (None)
    rows: list[ImpactRow] = field(default_factory=list)

    @property
    def entering(self) -> list[ImpactRow]:
        return [row for row in self.rows if row.enters_bottom_three]

    @property
    def leaving(self) -> list[ImpactRow]:
        return [row for row in self.rows if row.leaves_bottom_three]

    @property
    def changed(self) -> int:
        return sum(1 for row in self.rows if row.delta or row.rank_change or row.before is None)

    @property
    def missing_cells(self) -> int:
        return sum(row.missing_cells for row in self.rows)


class _Discard(Exception):
    """Carries the preview out of the transaction it rolls back."""

    def __init__(self, rows: list[ImpactRow]):
        super().__init__("impact preview: rolled back")
        self.rows = rows


def last_graded_month(*, committee: OrgUnit) -> datetime.date | None:
    """The latest tracked month the committee has graded (a run that succeeded)."""
    months = (
        GradingRun.objects.filter(committee=committee, state=GradingRun.State.SUCCEEDED)
        .order_by("-month")
        .values_list("month", flat=True)
        .distinct()
    )
    tracked_from = tracked_from_for(units=[committee])[committee.pk]
    return next((m for m in months[:24] if is_tracked(tracked_from=tracked_from, month=m)), None)


def preview_committees(*, rule_set: RuleSet, committees: list[OrgUnit]) -> list[OrgUnit]:
    """Of ``committees`` (those the user may see, in order), the ones graded by
    ``rule_set`` now — whose version in force this month belongs to it — those that
    have graded a month first (there is something to compare)."""
    versions = rule_versions_for(units=committees, month=timezone.localdate().replace(day=1))
    graded = set(
        GradingRun.objects.filter(committee__in=committees, state=GradingRun.State.SUCCEEDED).values_list(
            "committee_id", flat=True
        )
    )
    using = [c for c in committees if versions.get(c.pk) is not None and versions[c.pk].rule_set_id == rule_set.pk]
    return sorted(using, key=lambda c: c.pk not in graded)


def _standings(source) -> dict[int, Standing]:
    if source is None:
        return {}
    return {
        row["branch_id"]: Standing(row["total"], row["rank"], row["bottom_three"])
        for row in boards.branch_scores(source).values("branch_id", "total", "rank", "bottom_three")
    }


def version_impact(*, graded: OrgUnit, month: datetime.date | None = None, **version: Any) -> Impact:
    """Grade committee ``graded``'s ``month`` (by default its last graded month) under the
    version ``rule_set_version_create(**version)`` would make, and compare it with the
    board as it stands there (the latest publication, or the draft). Nothing is written;
    the version's ``ValidationError`` comes through as the save would raise it."""
    committee = graded
    month = month or last_graded_month(committee=committee)
    if month is None:
        raise ValidationError(
            _("%(committee)s has no graded month yet: there is nothing to compare the new version with.")
            % {"committee": committee.name}
        )
    published = boards.board_source(committee, month)
    before = _standings(published or boards.Draft(committee, month))
    try:
        with transaction.atomic():
            new_version = rule_set_version_create(**version)
            lock_committee_month(committee, month)
            run = GradingRun.objects.create(
                committee=committee, month=month, state=GradingRun.State.RUNNING, rule_version=new_version
            )
            engine.grade(run=run, version=new_version)
            scores = list(
                BranchScore.objects.filter(committee=committee, month=month).select_related("branch").order_by("rank")
            )
            scheme = engine.scheme_of(new_version)
            entered = engine.entered_scores(branch_ids=[s.branch_id for s in scores], month=month, scheme=scheme)
            rows = [
                ImpactRow(
                    branch=score.branch,
                    before=before.get(score.branch_id),
                    after=Standing(score.total, score.rank, score.bottom_three),
                    missing_cells=len(entered.missing(scheme, score.branch_id)),
                )
                for score in scores
            ]
            raise _Discard(rows)
    except _Discard as done:
        rows = done.rows
    rows.sort(key=lambda row: (row.after.rank, row.branch.name))
    return Impact(committee, month, published.version if published else None, rows)
