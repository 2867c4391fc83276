"""The moves of a project, a milestone and a challenge, as data (STYLE.md, "Workflows").

Each move names the states it leaves and the one it reaches; ``COMMITTEE_MOVES`` are the
committee's (staff of the project's committee or above), the others the lead branch's
(its secretary, or the committee). What a move posts is said beside it and done in
``services.py``, in the same transaction as the move.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.workflow import Move

from .models import Challenge, Milestone, Project

P = Project.State
M = Milestone.State
C = Challenge.State

PROJECT_MOVES = (
    Move("submit", (P.DRAFT, P.RETURNED), P.SUBMITTED, _("Submit for approval")),  # 申报
    Move("approve", (P.SUBMITTED,), P.ACTIVE, _("Approve")),
    Move("return", (P.SUBMITTED,), P.RETURNED, _("Return to the branch")),
    Move("conclude", (P.ACTIVE,), P.CONCLUDED, _("Conclude with results")),  # 结题
    Move("evaluate", (P.CONCLUDED,), P.EVALUATED, _("Evaluate")),  # posts project_grade_<n>
    Move("unevaluate", (P.EVALUATED,), P.CONCLUDED, _("Withdraw the grade")),  # reverses "grade"
)

# A project picked from a challenge's claims starts in progress (揭榜挂帅): one
# transition row with this move, no state left.
PICK = Move("pick", ("",), P.ACTIVE, _("Picked from the claims of a challenge"))

MILESTONE_MOVES = (
    Move("milestone_submit", (M.PENDING,), M.SUBMITTED, _("Submit for acceptance")),
    Move("milestone_accept", (M.PENDING, M.SUBMITTED), M.ACCEPTED, _("Accept the milestone")),  # posts
    Move("milestone_return", (M.SUBMITTED,), M.PENDING, _("Return the milestone")),
    Move(
        "milestone_withdraw", (M.ACCEPTED,), M.PENDING, pgettext_lazy("milestone", "Withdraw the acceptance")
    ),  # reverses
)

CHALLENGE_MOVES = (
    Move("award", (C.OPEN,), C.AWARDED, _("Pick a claim")),
    Move("close", (C.OPEN,), C.CLOSED, _("Close without picking")),
)

COMMITTEE_MOVES = frozenset(
    {"approve", "return", "evaluate", "unevaluate", "milestone_accept", "milestone_return", "milestone_withdraw"}
)

# The project states in which milestones move and value is recorded.
RUNNING = (P.ACTIVE,)
# The states in which the branch still edits the application.
EDITABLE = (P.DRAFT, P.RETURNED)


def project_moves_from(state: str) -> list[Move]:
    return [move for move in PROJECT_MOVES if state in move.sources]


def milestone_moves_from(state: str) -> list[Move]:
    return [move for move in MILESTONE_MOVES if state in move.sources]
