"""The demo's commitments (承诺践诺), written through the services as a secretary and the
committee would: for the current year, in every branch of the small demo, the safety
commitment (全员安全承诺) given to every member, a second template in some branches,
one personal commitment per member and the branch's own; the mid-year check done for
every commitment and published (公示); the year-end check in progress (some checked).

Checks post their points through the ledger into the check month. The demo's grading
publishes — and so closes — its past months, so ``seed_commitments`` runs before
``seed_grading`` and checks in a month that is already closed are passed over rather
than forced."""

import datetime
import random
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.models import OrgUnit
from branches.selectors import committee_for, month_is_closed
from members.models import Member

from . import services
from .models import Commitment, Field, Period, Result

SAFETY = (
    "全员安全承诺：严守安全操作规程，做到不违章指挥、不违章作业、不违反劳动纪律",
    Field.SAFETY,
    "个人全年零违章、零事故",
)
SECOND_TEMPLATES = [
    ("每月参加支部理论学习，按时完成“学习强国”学习任务", Field.STUDY, "全年学习不少于12次", None),
    ("立足岗位开展降本增效，每人提出合理化建议", Field.PRODUCTION, "", (Decimal("2"), "条")),
]
PERSONAL = [
    ("带好一名青年职工，帮助其通过中级工技能鉴定", Field.PRODUCTION, "", (Decimal("1"), "名")),
    ("全年提出合理化建议不少于3条，至少1条被采纳", Field.PRODUCTION, "", (Decimal("3"), "条")),
    ("参加“党员志愿服务队”活动", Field.SERVICE, "", (Decimal("4"), "次")),
    ("完成岗位技能培训，考取一项新的职业资格证书", Field.STUDY, "取得证书", (Decimal("40"), "学时")),
    ("牵头攻关设备故障难题，降低故障停机时间", Field.PRODUCTION, "故障停机时间下降10%", None),
    ("结对帮扶一名困难职工，每季度走访一次", Field.SERVICE, "", (Decimal("4"), "次")),
    ("认真落实“一岗双责”，所在班组全年无违章", Field.SAFETY, "班组零违章", None),
    ("撰写学习心得体会，在支部学习会上交流发言", Field.STUDY, "", (Decimal("6"), "篇")),
    ("做好节能降耗，岗位吨钢电耗低于指标", Field.PRODUCTION, "电耗低于计划指标", None),
    ("带头开展“党员身边无事故”活动，排查安全隐患", Field.SAFETY, "", (Decimal("12"), "项")),
]
BRANCH_OWN = [
    ("支部全年实现安全生产无事故，党员身边无违章、无事故", Field.SAFETY, "零事故", None),
    ("创建“党员先锋岗”，党员攻关项目全部按期完成", Field.PRODUCTION, "", (Decimal("3"), "个")),
]
PARTLY_NOTES = ["进度滞后，下半年补齐", "已完成大部分，尚差一项", "受检修安排影响，部分延后"]
NOT_MET_NOTES = ["因岗位调整未能开展", "本人请长假，未完成", "未按计划推进，已提醒"]


def _result(rng: random.Random) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.72:
        return Result.MET, ""
    if roll < 0.92:
        return Result.PARTLY, rng.choice(PARTLY_NOTES)
    return Result.NOT_MET, rng.choice(NOT_MET_NOTES)


def _target(spec) -> dict:
    text, field, target_text, number = spec
    value, unit = number or (None, "")
    return {"text": text, "field": field, "target_text": target_text, "target_value": value, "target_unit": unit}


def _month_open(branch: OrgUnit, month: datetime.date) -> bool:
    committee = committee_for(unit=branch)
    return committee is None or not month_is_closed(committee=committee, month=month)


def seed_commitments(
    *,
    branches: list[OrgUnit],
    secretary_for: Callable[[OrgUnit], AbstractBaseUser | None],
    committee_user_for: Callable[[OrgUnit], AbstractBaseUser | None],
    rng: random.Random,
    evidence: bytes,
    showcase: OrgUnit | None = None,
) -> dict[str, int]:
    """Commitments of the current year for every member of ``branches``; see the module."""
    today = timezone.localdate()
    year = today.year
    counts = {"commitments": 0, "checked": 0, "published": 0}
    for index, branch in enumerate(branches):
        user = secretary_for(branch)
        template = services.commitment_template_create(
            branch=branch, year=year, due_on=datetime.date(year, 12, 31), user=user, **_target((*SAFETY, None))
        )
        services.commitment_template_give(template=template, user=user)
        if index % 2 == 0:
            second = services.commitment_template_create(
                branch=branch, year=year, user=user, **_target(SECOND_TEMPLATES[index // 2 % len(SECOND_TEMPLATES)])
            )
            services.commitment_template_give(template=second, user=user)
        members = Member.objects.filter(branch=branch, left_on__isnull=True).order_by("pk")
        for member in members:
            spec = rng.choice(PERSONAL)
            milestones = []
            if branch == showcase:
                milestones = [
                    ("上半年完成过半", datetime.date(year, 6, 30)),
                    ("全年目标完成", datetime.date(year, 12, 31)),
                ]
            services.commitment_create(
                branch=branch,
                year=year,
                member=member,
                due_on=datetime.date(year, 12, 31),
                milestones=milestones,
                user=user,
                **_target(spec),
            )
        services.commitment_create(
            branch=branch, year=year, member=None, user=user, **_target(BRANCH_OWN[index % len(BRANCH_OWN)])
        )
        commitments = list(Commitment.objects.filter(branch=branch, year=year).order_by("pk"))
        counts["commitments"] += len(commitments)
        # The mid-year check, every commitment, then published by the committee.
        mid = services.check_month(branch=branch, year=year, period=Period.MID)
        if mid <= today and _month_open(branch, mid):
            for i, commitment in enumerate(commitments):
                result, note = _result(rng)
                upload = None
                if branch == showcase and i % 4 == 0:
                    upload = SimpleUploadedFile("承诺践诺佐证材料.pdf", evidence, content_type="application/pdf")
                services.commitment_check_set(
                    commitment=commitment, period=Period.MID, result=result, note=note, evidence=upload, user=user
                )
                counts["checked"] += 1
            services.check_publication_publish(
                branch=branch,
                year=year,
                period=Period.MID,
                user=committee_user_for(branch),
                note="半年承诺践诺检查结果公示",
            )
            counts["published"] += 1
        # The year-end check under way: a few branches have started, none is published.
        final = services.check_month(branch=branch, year=year, period=Period.FINAL)
        if (index % 3 == 0 or branch == showcase) and _month_open(branch, final):
            for commitment in commitments[: len(commitments) // 2]:
                result, note = _result(rng)
                services.commitment_check_set(
                    commitment=commitment, period=Period.FINAL, result=result, note=note, user=user
                )
                counts["checked"] += 1
    return counts
