"""Demo data: about a hundred 合理化建议 across the showcase committee's branches, carried
through the funnel by the same services the pages use (the seed's plant: 125 proposed,
96 adopted and published, 89 implemented). Moves are dated inside the demo's months and
written before the months are graded and published, so every point lands in a month
that is still open; the newest suggestions are still waiting."""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.models import OrgUnit
from members.models import Member

from . import services
from .models import Field

# (title, field, expected benefit, expected 万元 or None)
TITLES = [
    ("优化高炉布料制度降低焦比", Field.PROCESS, "焦比降低约3kg/t", "120"),
    ("转炉副枪探头国产化替代", Field.COST, "年节约备件费用", "45"),
    ("连铸二冷配水曲线优化减少铸坯裂纹", Field.QUALITY, "铸坯表面裂纹率下降", "30"),
    ("钢包烘烤器改蓄热式节约煤气", Field.COST, "年节约煤气费用", "28"),
    ("结晶器液位自动控制参数优化", Field.PROCESS, "减少漏钢和液面波动", "20"),
    ("天车主钩制动器点检标准细化", Field.EQUIPMENT, "降低设备故障停机", None),
    ("炼钢厂区煤气区域安全警示标识规范化", Field.SAFETY, "消除煤气作业安全隐患", None),
    ("废钢预热利用转炉余热", Field.COST, "降低铁钢比", "60"),
    ("RH真空泵冷凝水回收利用", Field.COST, "年节水约2万吨", "12"),
    ("中间包永久层浇注料配方调整", Field.PROCESS, "中间包寿命提高", "18"),
    ("热轧加热炉空燃比在线优化", Field.PROCESS, "吨钢燃耗下降", "55"),
    ("精轧机工作辊冷却水嘴改型", Field.EQUIPMENT, "轧辊消耗降低", "25"),
    ("板坯库垛位管理信息化", Field.MANAGEMENT, "减少倒垛作业", "8"),
    ("氧枪喷头寿命提升措施", Field.EQUIPMENT, "喷头更换周期延长", "15"),
    ("除尘风机变频改造", Field.COST, "年节电约150万度", "90"),
    ("岗位交接班安全确认卡", Field.SAFETY, "杜绝交接班信息遗漏", None),
    ("铁水预处理扒渣工艺改进", Field.PROCESS, "铁损降低", "22"),
    ("液压站油液污染度在线监测", Field.EQUIPMENT, "延长液压件寿命", "10"),
    ("合金加料模型优化降低合金消耗", Field.COST, "吨钢合金成本下降", "75"),
    ("检修作业票电子化流转", Field.MANAGEMENT, "缩短办票时间", None),
    ("转炉溅渣护炉操作标准化", Field.PROCESS, "炉龄提高", "35"),
    ("皮带机托辊更换专用工具", Field.EQUIPMENT, "减轻劳动强度", "3"),
    ("钢水温度预报模型改进", Field.QUALITY, "出钢温度命中率提高", "16"),
    ("有限空间作业气体检测流程优化", Field.SAFETY, "作业风险受控", None),
    ("精炼渣系调整提高脱硫率", Field.QUALITY, "硫含量合格率提高", "14"),
    ("连铸切割枪割缝减窄", Field.COST, "金属收得率提高", "40"),
    ("能源介质计量表具集中巡检", Field.MANAGEMENT, "减少计量误差", "6"),
    ("煤气柜区域巡检路线优化", Field.SAFETY, "巡检效率提高", None),
    ("轧线导卫快速更换装置", Field.EQUIPMENT, "换辊时间缩短", "20"),
    ("班组原材料消耗日统计看板", Field.MANAGEMENT, "消耗异常及时发现", "5"),
    ("高炉风口小套漏水快速判断方法", Field.SAFETY, "避免风口烧损事故", "30"),
    ("冷轧酸洗废酸再生效率提升", Field.COST, "酸耗下降", "38"),
    ("磨辊间轧辊磨削量优化", Field.COST, "轧辊单耗下降", "26"),
    ("电炉泡沫渣操作改进", Field.PROCESS, "电耗降低", "48"),
    ("点检仪数据自动上传", Field.EQUIPMENT, "点检数据及时完整", None),
    ("备件库呆滞物资盘活利用", Field.MANAGEMENT, "降低库存资金占用", "32"),
    ("成品库防雨棚改造减少锈蚀", Field.QUALITY, "减少质量异议", "9"),
    ("职工通勤车辆停放区安全改造", Field.OTHER, "厂区交通安全", None),
    ("新员工师带徒培训清单", Field.OTHER, "缩短上岗周期", None),
    ("循环水系统加药自动化", Field.EQUIPMENT, "水质稳定", "11"),
]
REJECTION_REASONS = [
    "与现行安全规程冲突，暂不具备实施条件",
    "已有同类项目在实施，建议并入",
    "投入产出比不合理，建议补充测算后再报",
    "技术方案不成熟，需进一步论证",
]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# What becomes of a suggestion (the seed's funnel, scaled): rejected, still waiting,
# accepted only, published only, implemented.
OUTCOMES = [("rejected", 12), ("submitted", 8), ("accepted", 4), ("published", 8), ("implemented", 68)]


def _later(day: datetime.date, rng: random.Random, low: int, high: int, last: datetime.date) -> datetime.date | None:
    """A day ``low`` to ``high`` days after ``day``, or None if it would pass ``last``."""
    then = day + datetime.timedelta(days=rng.randint(low, high))
    return then if then <= last else None


def seed_suggestions(
    *,
    committee: OrgUnit,
    months: list[datetime.date],
    user: AbstractBaseUser,
    rng: random.Random,
    count: int = 100,
    secretary: AbstractBaseUser | None = None,
    showcase: OrgUnit | None = None,
) -> dict[str, int]:
    """``count`` suggestions across ``committee``'s branches, submitted in ``months`` and
    moved on by ``user`` (the showcase branch's own entered by ``secretary``). Returns
    how many reached each stage."""
    today = timezone.localdate()
    last = min(today, _month_end(months[-1]))
    branches = list(
        OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, path__startswith=committee.path, dissolved_on=None)
    )
    members: dict[int, list[Member]] = {b.pk: [] for b in branches}
    for member in Member.objects.filter(branch__in=branches, left_on=None).select_related("branch").order_by("pk"):
        members[member.branch_id].append(member)
    branches = [b for b in branches if members[b.pk]]
    counts = {"proposed": 0, "accepted": 0, "rejected": 0, "published": 0, "implemented": 0}
    if not branches:
        return counts
    outcomes = [name for name, weight in OUTCOMES for _ in range(weight)]
    span = (last - months[0]).days
    for n in range(count):
        branch = rng.choice(branches)
        title, field, benefit, value = TITLES[n % len(TITLES)]
        if n >= len(TITLES):
            title = f"{title}（{branch.name[:4]}）"
        submitted_on = months[0] + datetime.timedelta(days=rng.randint(0, span))
        proposers = rng.sample(members[branch.pk], k=min(len(members[branch.pk]), rng.choice([1, 1, 1, 2, 2, 3])))
        s = services.suggestion_submit(
            branch=branch,
            proposers=proposers,
            title=title,
            text=f"针对{title[:8]}等问题，建议{title}，并在班组内推广。",
            field=field,
            expected_benefit=benefit,
            expected_value=Decimal(value) if value else None,
            submitted_on=submitted_on,
            user=secretary if secretary is not None and branch == showcase else user,
        )
        counts["proposed"] += 1
        outcome = rng.choice(outcomes)
        if outcome == "submitted":
            continue
        reviewed = _later(submitted_on, rng, 3, 20, last)
        if reviewed is None:
            continue
        if outcome == "rejected":
            services.suggestion_reject(suggestion=s, user=user, reason=rng.choice(REJECTION_REASONS), on=reviewed)
            counts["rejected"] += 1
            continue
        services.suggestion_accept(suggestion=s, user=user, on=reviewed)
        counts["accepted"] += 1
        published = _later(reviewed, rng, 1, 10, last)
        if outcome == "accepted" or published is None:
            continue
        services.suggestion_publish(suggestion=s, user=user, reason="在厂务公开栏发布", on=published)
        counts["published"] += 1
        implemented = _later(published, rng, 7, 40, last)
        if outcome == "published" or implemented is None:
            continue
        expected = Decimal(value) if value else Decimal("2")
        realised = (expected * Decimal(rng.randint(40, 130)) / 100).quantize(Decimal("0.01"))
        services.suggestion_implement(
            suggestion=s,
            user=user,
            realised_value=realised,
            evidence=SimpleUploadedFile("实施效果确认单.pdf", PDF, content_type="application/pdf"),
            reason="经车间验收，效果达到预期",
            on=implemented,
        )
        counts["implemented"] += 1
    return counts


def _month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)
