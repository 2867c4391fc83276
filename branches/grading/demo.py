"""Demo grading: the committees' entered scores, published boards for past months and a
draft for the latest complete month, and the talks with bottom-three branches — all
through the services, so the demo shows exactly what the monthly loop produces."""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from branches.models import OrgUnit

from . import engine, publishing, services
from .models import Dimension

TALK_NOTES = [
    "对照考核细则逐项分析失分原因，支部书记作表态发言。",
    "分析三会一课未按期召开的原因，支委会明确分工。",
    "查找党员队伍建设短板，研究提升出勤率的措施。",
]
TALK_ACTIONS = [
    "一、当月补开支委会；二、每月21日固定开展主题党日；三、下月底前报送整改情况。",
    "一、建立党小组会台账；二、支部书记每周检查一次；三、党委工作部跟踪督办。",
    "一、开展一次专题组织生活会；二、对后进党员谈心谈话；三、整改结果在支部公示。",
]


def seed_grading(
    *, committees: list[OrgUnit], months: list[datetime.date], admin: AbstractBaseUser, rng: random.Random
) -> dict[str, int]:
    """Score, grade and publish every complete month but the latest, which stays a draft."""
    today = timezone.localdate()
    complete = [m for m in months if engine.month_end(m) < today]
    counts = {"inputs": 0, "runs": 0, "publications": 0, "talks": 0}
    for month in complete:
        publish = month != complete[-1]
        for committee in committees:
            scheme = engine.scheme_for(unit=committee, month=month)
            for branch in engine.graded_branches(committee=committee, month=month):
                for dimension in scheme.entered:
                    items = scheme.items_of(dimension)
                    # Now and then the committee does not assess production for a branch.
                    not_assessed = dimension == Dimension.PRODUCTION and not items and rng.random() < 0.05
                    score = None if not_assessed else Decimal(rng.randint(7000, 9900)) / 100
                    for item in items:  # 70 % to 99 % of each item's maximum
                        services.score_input_set(
                            branch=branch,
                            month=month,
                            dimension=dimension,
                            score=(item.max_score * rng.randint(70, 99) / 100).quantize(Decimal("0.01")),
                            user=admin,
                            item=item,
                        )
                        counts["inputs"] += 1
                    if items:
                        continue
                    services.score_input_set(
                        branch=branch,
                        month=month,
                        dimension=dimension,
                        score=score,
                        not_assessed=not_assessed,
                        user=admin,
                    )
                    counts["inputs"] += 1
            run = services.grading_run_request(committee=committee, month=month, user=admin)
            services.grading_run_execute(run_id=run.pk)
            counts["runs"] += 1
            if not publish:
                continue
            publication = publishing.board_publish(
                committee=committee, month=month, user=admin, note="月度考核结果公示"
            )
            counts["publications"] += 1
            # Talks with the bottom three: recorded for the older months; the most recent
            # published month leaves one outstanding so the overdue list has something.
            flagged = publication.branch_scores.filter(bottom_three=True).select_related("branch").order_by("rank")
            for i, row in enumerate(flagged):
                if month == complete[-2] and i == 0:
                    continue
                # The demo publishes past months today, so the talks follow this month.
                held_on = max(today.replace(day=1), today - datetime.timedelta(days=rng.randint(0, 10)))
                publishing.talk_record(
                    committee=committee,
                    month=month,
                    branch=row.branch,
                    held_on=held_on,
                    talked_by=f"{committee.name}书记",
                    talked_with=f"{row.branch.name}书记",
                    notes=rng.choice(TALK_NOTES),
                    actions=rng.choice(TALK_ACTIONS),
                    user=admin,
                )
                counts["talks"] += 1
    return counts
