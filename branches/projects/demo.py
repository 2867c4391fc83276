"""The demo's projects (Ansteel's 23 challenge projects, Zhongyuan Gold's 党员先锋工程,
Jining's 一支部一项目): a dozen projects of the showcase committee in every state, value
created month by month, milestones accepted (their points posted), a year-end grade or
two, and an open 揭榜 challenge with two claims — all written through the services.

``seed_demo`` calls ``seed_projects`` after the months' activities and entries and
before the grading publishes (and so closes) the past months: value is recorded into
months still open. Milestone acceptances and grades post into the current month."""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from branches.models import OrgUnit
from members.models import Member

from . import services
from .defaults import install_default_kinds
from .models import Project, ProjectKind

# (title, kind, field, final state, grade, [milestones], value per month (万元, low–high) or None)
PROJECTS = [
    (
        "转炉炉龄提升攻关",
        "党建攻关项目",
        "equipment",
        "evaluated",
        1,
        ["溅渣护炉工艺固化", "炉衬侵蚀在线监测"],
        (8, 22),
    ),
    ("连铸坯表面纵裂攻关", "党建攻关项目", "quality", "evaluated", 2, ["结晶器保护渣试验", "二冷水表优化"], (3, 9)),
    ("吨钢电耗降本攻关", "党建攻关项目", "cost", "concluded", None, ["空压机群控改造", "峰谷用电调度"], (5, 12)),
    (
        "高炉喷煤比提升",
        "党建攻关项目",
        "process",
        "active",
        None,
        ["煤粉制备系统改造", "风口喷吹均匀性", "全年喷煤比达标"],
        (4, 15),
    ),
    ("轧机备件国产化", "党员先锋工程", "cost", "active", None, ["支承辊国产化试用", "工作辊轴承替代"], (2, 6)),
    ("天车作业安全党员先锋岗", "党员先锋工程", "safety", "active", None, ["隐患排查清单", "党员安全示范岗挂牌"], None),
    ("废钢分类回收创效", "一支部一项目", "cost", "active", None, ["废钢堆场分区", "渣钢回收线投运"], (1, 4)),
    ("精炼渣系优化", "党建攻关项目", "process", "submitted", None, ["渣系配比试验"], None),
    ("设备点检标准化", "党员先锋工程", "equipment", "returned", None, [], None),
    ("煤气回收提效", "一支部一项目", "cost", "draft", None, [], None),
    ("党员责任区创建", "党员先锋工程", "safety", "active", None, ["责任区划分", "月度讲评"], None),
]
TARGETS = {
    "转炉炉龄提升攻关": ("炉龄", "炉", "8000", "10000", "12000"),
    "连铸坯表面纵裂攻关": ("纵裂发生率", "%", "0.35", "0.15", "0.10"),
    "吨钢电耗降本攻关": ("吨钢电耗", "kWh/t", "52", "48", "46"),
    "高炉喷煤比提升": ("喷煤比", "kg/t", "150", "165", "175"),
    "废钢分类回收创效": ("渣钢回收量", "吨/月", "300", "500", None),
}


def _people(branch: OrgUnit, rng: random.Random) -> list[Member]:
    members = list(Member.objects.filter(branch=branch, left_on__isnull=True).order_by("pk")[:12])
    rng.shuffle(members)
    return members


def seed_projects(
    *,
    committee: OrgUnit,
    months: list[datetime.date],
    admin: AbstractBaseUser,
    secretary: AbstractBaseUser | None,
    showcase: OrgUnit,
    rng: random.Random,
) -> dict[str, int]:
    install_default_kinds()
    own_kind = services.project_kind_add(committee=committee, name="一支部一项目", user=admin)
    kinds = {k.name: k for k in ProjectKind.objects.filter(committee__isnull=True)} | {own_kind.name: own_kind}
    branches = list(
        OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, dissolved_on__isnull=True, path__startswith=committee.path)
        .exclude(pk=showcase.pk)
        .order_by("path")
    )
    branches = [showcase, *branches]
    today = timezone.localdate()
    counts = {"projects": 0, "values": 0, "milestones": 0, "challenges": 0, "claims": 0}
    for index, (title, kind, field, state, grade, milestones, value) in enumerate(PROJECTS):
        branch = branches[index % len(branches)]
        user = secretary if branch == showcase and secretary else admin
        people = _people(branch, rng)
        if not people:
            continue
        co = [branches[(index + 1) % len(branches)]] if index % 4 == 0 and len(branches) > 1 else []
        project = services.project_create(
            branch=branch,
            kind=kinds[kind],
            title=title,
            field=field,
            year=today.year,
            leader=people[0],
            co_branches=co,
            budget=Decimal(rng.choice([5, 10, 20, 30, 50])),
            reward=Decimal(rng.choice([1, 2, 3, 5])),
            description=f"{branch.name}党员牵头，围绕生产经营难点开展{title}。",
            user=user,
        )
        counts["projects"] += 1
        for member in people[1:4]:
            services.project_member_add(
                project=project, member=member, role=rng.choice(["deputy", "core", "member"]), user=user
            )
        if title in TARGETS:
            metric, unit, baseline, target, stretch = TARGETS[title]
            services.project_target_add(
                project=project,
                metric=metric,
                unit=unit,
                baseline=Decimal(baseline),
                target=Decimal(target),
                stretch=Decimal(stretch) if stretch else None,
            )
        rows = []
        for n, name in enumerate(milestones):
            due = months[min(n * 2 + 1, len(months) - 1)] + datetime.timedelta(days=24)
            rows.append(services.milestone_add(project=project, title=name, due_on=due))
        if state == "draft":
            continue
        services.project_submit(project=project, user=user)
        if state == "submitted":
            continue
        if state == "returned":
            services.project_return(project=project, user=admin, reason="目标未量化，请补充基准值和目标值后重新申报。")
            continue
        services.project_approve(project=project, user=admin, reason="同意立项")
        if value:
            for month in months:
                amount = Decimal(rng.randint(value[0] * 100, value[1] * 100)) / 100
                services.value_record_add(
                    project=project,
                    month=month,
                    amount=amount,
                    progress=f"{month.month}月完成{rng.choice(['工艺试验', '设备调试', '数据跟踪', '班组推广'])}。",
                    user=user,
                )
                counts["values"] += 1
        finished = state in ("concluded", "evaluated")
        for n, milestone in enumerate(rows):
            # Running projects: the first accepted, the next submitted, the rest pending
            # (one of them overdue); finished projects have every milestone accepted.
            if finished or n == 0:
                services.milestone_accept(milestone=milestone, user=admin)
                counts["milestones"] += 1
            elif n == 1:
                services.milestone_submit(milestone=milestone, user=user)
        if finished:
            services.project_conclude(project=project, user=user, results=f"{title}完成全部节点，指标达到目标值。")
        if state == "evaluated":
            services.project_evaluate(project=project, user=admin, grade=grade)

    # 揭榜: one challenge already awarded (a project under way), one open with two claims.
    challenge_kind = kinds["挑战项目"]
    done = services.challenge_post(
        committee=committee,
        kind=challenge_kind,
        field="equipment",
        title="钢包寿命提升揭榜",
        description="钢包平均寿命由120次提高到150次，降低耐材消耗。",
        targets="钢包寿命 ≥ 150 次；耐材成本下降10%",
        deadline=today + datetime.timedelta(days=1),
        reward=Decimal("5"),
        user=admin,
    )
    first = _people(branches[0], rng)
    claim = services.challenge_claim(
        challenge=done,
        branch=branches[0],
        leader=first[0] if first else None,
        pledge="半年内钢包寿命达到150次，达不到支部书记向党委检讨。",
        pledge_by=today + datetime.timedelta(days=180),
        user=secretary or admin,
    )
    services.challenge_pick(claim_row=claim, user=admin)
    counts["challenges"] += 1
    counts["claims"] += 1
    open_challenge = services.challenge_post(
        committee=committee,
        kind=challenge_kind,
        field="cost",
        title="炼钢工序降本增效揭榜",
        description="公开张榜：炼钢工序成本每吨降低8元，欢迎各支部、党员主动揭榜。",
        targets="吨钢工序成本下降 ≥ 8 元；年创效 ≥ 200 万元",
        deadline=today + datetime.timedelta(days=20),
        reward=Decimal("10"),
        user=admin,
    )
    counts["challenges"] += 1
    for branch in branches[1:3]:
        people = _people(branch, rng)
        services.challenge_claim(
            challenge=open_challenge,
            branch=branch,
            leader=people[0] if people else None,
            pledge=f"{branch.name}立下军令状：年底前吨钢成本降低{rng.choice([8, 10, 12])}元。",
            pledge_by=today + datetime.timedelta(days=rng.choice([120, 150, 180])),
            user=admin,
        )
        counts["claims"] += 1
    counts["states"] = Project.objects.filter(committee=committee).values("state").distinct().count()
    return counts


def projects_summary() -> str:
    """One line for seed_demo's report: projects by state, value, challenges and claims."""
    from django.db.models import Count, Sum

    from members.ledger.models import LedgerEntry, Source

    from .models import Challenge, ChallengeClaim, ValueRecord

    states = dict(Project.objects.order_by().values_list("state").annotate(n=Count("pk")))
    # SQLite sums decimals through floats: say it to the cent, as the pages do.
    value = Decimal(ValueRecord.objects.aggregate(t=Sum("amount"))["t"] or 0).quantize(Decimal("0.01"))
    return (
        f"Projects {sum(states.values())} ("
        + ", ".join(f"{label} {states[state]}" for state, label in Project.State.choices if states.get(state))
        + f"), value created {value} 万元, challenges {Challenge.objects.count()} with "
        f"{ChallengeClaim.objects.count()} claims, project entries "
        f"{LedgerEntry.objects.filter(source=Source.PROJECT).count()}"
    )
