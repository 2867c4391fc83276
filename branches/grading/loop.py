"""Where a committee's month stands in the grading loop (the guided flow):
录入评分 → 考核计算 → 审核 → 公示 → 谈话, each step's state and the next action. Read
from the draft status (``publishing.draft_status``), the latest run and the talk board;
shown on the month's board for those who manage grading and on the committee staff's
workbench."""

import datetime
from dataclasses import dataclass

from branches.models import OrgUnit

from . import publishing
from .models import GradingRun, Publication

STEPS = ("inputs", "run", "review", "publish", "talks")


@dataclass
class LoopMonth:
    """Where the grading loop of one committee month stands."""

    committee: OrgUnit
    month: datetime.date
    status: publishing.DraftStatus
    last_run: GradingRun | None  # the latest run whatever its state
    talks_due: int = 0
    talks_overdue: int = 0

    @property
    def missing(self) -> int:
        return self.status.missing_count

    @property
    def draft_state(self) -> str:
        """ "none", "stale" or "fresh"."""
        if self.status.run is None:
            return "none"
        return "stale" if self.status.stale else "fresh"

    @property
    def published(self) -> Publication | None:
        return self.status.published

    @property
    def publishable(self) -> bool:
        """The draft is ready and newer than what is published."""
        if not self.status.ready:
            return False
        published = self.status.published
        return published is None or published.run_id != self.status.run.pk

    @property
    def step(self) -> str:
        """The next step of the loop: inputs, run, review, publish, talks or done."""
        if self.status.closed:
            return "talks" if self.talks_due or self.talks_overdue else "done"
        if self.missing:
            return "inputs"
        if self.draft_state != "fresh":
            return "run"
        if self.publishable:
            return "publish"
        return "talks" if self.talks_due or self.talks_overdue else "done"

    @property
    def pending_run(self) -> bool:
        """A run is queued or running after the draft's."""
        return self.status.pending is not None

    @property
    def steps(self) -> list[tuple[str, str]]:
        """Each step of the loop and its state: "done", "current" or "todo". Reviewing
        and publishing the draft are current together (the draft board has the button)."""
        current = {"inputs": ("inputs",), "run": ("run",), "publish": ("review", "publish"), "talks": ("talks",)}
        now = current.get(self.step, ())
        first = STEPS.index(now[0]) if now else len(STEPS)
        states = []
        for index, key in enumerate(STEPS):
            states.append((key, "current" if key in now else "done" if index < first else "todo"))
        return states


def loop_month(
    *,
    committee: OrgUnit,
    month: datetime.date,
    today: datetime.date,
    talks=None,
    watermark: dict | None = None,
    status: publishing.DraftStatus | None = None,
    last_run: GradingRun | None = None,
) -> LoopMonth:
    """One committee month's loop: the draft status (a handful of queries), the latest
    run, and the month's talks (``talks``: the committee's talk board, read once).
    ``status`` and ``last_run``: already read (``publishing.draft_statuses``)."""
    if status is None:
        status = publishing.draft_status(committee, month, watermark=watermark)
        last_run = GradingRun.objects.filter(committee=committee, month=month).order_by("-requested_at", "-pk").first()
    if talks is None:
        talks = publishing.talk_board(committee, today, month=month)
    mine = [t for t in talks if t.month == month]
    return LoopMonth(
        committee=committee,
        month=month,
        status=status,
        last_run=last_run,
        talks_due=sum(1 for t in mine if t.state == publishing.TalkState.DUE),
        talks_overdue=sum(1 for t in mine if t.state == publishing.TalkState.OVERDUE),
    )
