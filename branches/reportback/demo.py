"""Demo 月述职: the showcase committee's report-back, run month by month through the
services the pages use — a pool of its branches in two categories (生产单位 / 机关单位),
a three-month cycle, a draw each month (one redrawn, with its reason), two half-day
sessions at month end, and for the months already past the written reports, the
leaders' comments, the assessors' scores and the summary comment. This month is drawn
and its sessions are planned, not yet held. It runs before the grading, which then
reads the scores into the 细则's 月述职测评 item."""

import datetime
import math
import random
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.models import OrgUnit

from . import selectors, services
from .models import DEFAULT_THEMES, Draw, Setup

CYCLE_MONTHS = 3
LEADERS = ["厂党委书记", "厂长", "党委副书记", "纪委书记"]
ASSESSORS = ["厂党委书记", "厂长", "党委副书记", "纪委书记", "工会主席"]
COMMENTS = [
    "汇报重点突出，党建与生产结合紧密，下一步要在青年党员培养上再下功夫。",
    "攻关项目推进有力，数据翔实；问题查摆还不够具体，整改措施要有时限。",
    "支部书记抓党建的责任意识强，三会一课规范；建议把特色工作法总结提炼。",
    "安全生产责任区落实到人，成效明显；要注意台账资料的及时归档。",
    "创新举措有亮点，但党员先锋岗的作用发挥还不够均衡，要对标先进找差距。",
]
SUMMARIES = [
    "本次述职各支部准备充分，问题查摆实在。会后各支部要对照点评意见逐条整改，下次述职时报告整改情况。",
    "总体看，党建引领生产经营的成效正在显现。各支部要把述职中提出的措施落到实处，党委工作部跟踪督办。",
]
REDRAW_REASON = "当月述职会与集团年度检修攻坚冲突，抽中单位均承担检修任务，经党委会研究同意重新抽签，原抽签记录保留。"


def seed_reportback(
    *,
    committee: OrgUnit,
    months: list[datetime.date],
    admin: AbstractBaseUser,
    rng: random.Random,
    pdf: bytes,
) -> dict[str, int]:
    """Set up and run ``committee``'s report-back over ``months`` (the demo's months of
    organisational life, the current one last). Returns counts for the seed's report."""
    today = timezone.localdate()
    units = list(selectors.eligible_units(committee=committee).filter(kind=OrgUnit.Kind.BRANCH))
    offices = [u for u in units if "机关" in u.name]
    production = [u for u in units if u not in offices]
    groups = [(name, members) for name, members in (("生产单位", production), ("机关单位", offices)) if members]
    setup = services.setup_save(
        committee=committee,
        cycle_start=months[0],
        cycle_months=CYCLE_MONTHS,
        draw_day=20,
        scoring=Setup.Scoring.TRIMMED,
        themes=list(DEFAULT_THEMES.values()),
        categories=[
            services.CategorySpec(
                slot=slot,
                name=name,
                quota=math.ceil(len(members) / CYCLE_MONTHS),
                unit_ids=[u.pk for u in members],
            )
            for slot, (name, members) in enumerate(groups, start=1)
        ],
        user=admin,
        today=months[0],
    )
    counts = {"draws": 0, "reports": 0, "scores": 0}
    for index, month in enumerate(months):
        draw = services.draw_month(setup=setup, month=month, user=admin)
        if index == 1:
            draw = services.draw_redraw(draw=draw, user=admin, reason=REDRAW_REASON)
        # The draw was made on the draw day (the demo writes every month today).
        drawn_at = timezone.make_aware(datetime.datetime.combine(month.replace(day=setup.draw_day), datetime.time(9)))
        Draw.objects.filter(setup=setup, month=month).update(started_at=drawn_at)
        counts["draws"] += 1
        for session in draw.sessions.all():
            services.session_update(
                session=session,
                date=session.date,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                place="厂部办公楼三楼会议室" if session.number == 1 else "厂部办公楼五楼视频会议室",
                user=admin,
            )
        if month >= today.replace(day=1):
            continue  # this month: drawn and planned, the sessions are still ahead
        for report in draw.reports.select_related("unit"):
            services.report_upload(
                report=report,
                upload=SimpleUploadedFile(f"{report.unit.name}{month:%Y年%m月}述职报告.pdf", pdf, "application/pdf"),
                user=admin,
            )
            for leader in rng.sample(LEADERS, 2):
                services.comment_add(report=report, leader=leader, text=rng.choice(COMMENTS), user=admin)
            for assessor in ASSESSORS:
                score = Decimal(rng.randint(7600, 9700)) / 100
                services.assessment_set(report=report, assessor=assessor, score=score, user=admin)
                counts["scores"] += 1
            counts["reports"] += 1
        for session in draw.sessions.all():
            services.session_summary_set(
                session=session, summary_by="厂党委书记", summary=rng.choice(SUMMARIES), user=admin
            )
    return counts
