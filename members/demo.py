"""The demo data set behind ``manage.py seed_demo``, planned in memory.

Everything here is pure: given a ``random.Random`` and today's date it decides which
units, terms, titles, members, membership periods, roles and honours exist, as plain
dataclasses that point at each other by list index. The command turns the plan into
rows (through the services for the small demo, in bulk for the Ansteel-size tree), so
the same seed gives the same organisation whichever way it is written, and the
realism rules (ages, probation, conversion, history) live in one place.

The flavour is a steel group company, after the Ansteel reports in ``seeds/``.
"""

import bisect
import datetime
import itertools
import math
import random
from dataclasses import dataclass, field

from branches.models import BranchTitle, OrgUnit
from branches.services import add_years
from members.models import MemberHonour, MemberRole, Membership

# --- word lists ---------------------------------------------------------------------

# Common surnames, most frequent first; weights fall off so 王/李/张 dominate as they do.
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文关佟那付隋"
)
SURNAME_WEIGHTS = list(itertools.accumulate(1 / (rank + 4) for rank in range(len(SURNAMES))))

MALE_GIVEN = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林峰建国志海东亮成文新晨博阳立振松宏彬锋坤铁钢胜利庆祥德忠春"
)
FEMALE_GIVEN = "芳娜敏静丽艳娟霞燕玲婷雪慧莹颖琳洁红梅琴蕾倩晶萍月悦欣佳璐丹秀英华兰凤云宁爽岩微"

# Liaoning: 满族 is the largest minority on an Anshan payroll.
ETHNICITIES = ("汉族", "满族", "回族", "蒙古族", "朝鲜族", "锡伯族")
ETHNICITY_WEIGHTS = list(itertools.accumulate((88, 7, 2, 1.5, 1, 0.5)))

PHONE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155")
PHONE_PREFIXES += ("156", "158", "159", "180", "185", "186", "187", "188", "189")

PRODUCTION_POSTS = (
    "炼钢工", "炼铁工", "高炉工长", "炉前工", "连铸工", "轧钢工", "点检员", "技术员", "调度员",
    "班长", "作业长", "电工", "钳工", "天车工", "质检员", "化验员", "安全员", "设备员", "操作工",
    "维修工", "仪表工", "司机",
)  # fmt: skip
OFFICE_POSTS = ("科员", "主管", "工程师", "党务干事", "人事专员", "会计", "统计员", "安全管理员", "副科长")

BRANDS = (
    "红色引擎", "铁军先锋", "炉火红心", "钢铁脊梁", "匠心铸魂", "红旗飘扬", "先锋号角", "红色动力",
    "精益先锋", "安全守护者", "一线先锋", "熔炉淬火", "钢花璀璨", "红色轧线", "点检尖兵", "质量卫士",
    "蓝领先锋", "奋进之炉", "火红铁水", "智造先锋", "绿色能源卫士", "连铸尖兵", "金牌班组", "攻坚突击",
)  # fmt: skip
BRAND_FOCUS = ("生产经营", "降本增效", "安全生产", "设备稳定运行", "质量攻关", "节能减排")

MODEL_POSTS = ("安全生产", "节能降耗", "设备点检", "质量攻关", "精益操作", "技术创新", "班组管理")
RESPONSIBILITY_AREAS = ("高炉炉前", "转炉平台", "连铸浇钢", "设备区域", "成品库", "安全隐患排查", "主控室")
SHOCK_TEAMS = ("高炉检修", "抢修攻坚", "防汛保产", "年修会战", "冬季保供")

# (name, code, production areas, second-level committees). The first two areas of
# 炼钢二厂 match seed 000 ("炼钢二厂连铸三作业区党支部").
PLANTS = (
    ("炼铁厂", "LT", "一号高炉 二号高炉 三号高炉 四号高炉 烧结 球团 原料 喷煤 运转 热风炉", "西区 东区 烧结"),
    ("炼钢二厂", "LG2", "连铸三 转炉一 转炉二 精炼 连铸一 连铸二 铁水预处理 板坯精整 天车 耐材", "转炉 连铸"),
    ("热轧带钢厂", "RZ", "加热炉 粗轧 精轧 卷取 磨辊 精整 1780 2150 平整", "1780 2150"),
    ("冷轧厂", "LZ", "酸轧 连退 镀锌 彩涂 重卷 磨辊 成品 包装", "一冷轧 二冷轧"),
    ("能源管控中心", "NY", "调度 供电 燃气 给排水 氧气 热力 计量 煤气回收", "供配电 燃气动力"),
    ("炼焦总厂", "LJ", "一炼焦 二炼焦 备煤 化产回收 干熄焦 焦炉加热", "东区 西区"),
    ("炼钢一厂", "LG1", "转炉 连铸 精炼 模铸 原料 脱硫", "转炉 连铸"),
    ("大型厂", "DX", "连轧 开坯 钢轨精整 型钢 加热", "连轧 精整"),
    ("中厚板厂", "ZHB", "宽厚板 热处理 剪切 精整 加热炉", "宽厚板 精整"),
    ("线材厂", "XC", "高线 棒材 精整 加热炉", "高线 棒材"),
    ("冷轧硅钢厂", "GG", "常化酸洗 脱碳退火 高温退火 涂层 分剪", "取向 无取向"),
    ("设备检修协力中心", "JX", "机械检修 电气检修 液压 备件制作 起重", "机械 电气"),
    ("质检计量中心", "ZJ", "化学检验 物理检验 炉前快分 计量 标准样", "检验 计量"),
    ("物流运输部", "WL", "铁路运输 汽车运输 港口 仓储 调车", "铁运 汽运"),
    ("原燃料采购中心", "CG", "进口矿 国内矿 煤炭 合金 废钢", "矿石 燃料"),
    ("矿业公司", "KY", "采矿 选矿 破碎 球磨 尾矿 爆破", "齐大山 眼前山 大孤山"),
    ("技术中心", "JS", "炼铁研究 炼钢研究 轧钢研究 检测 信息化", "研究院 中试"),
)
SHOWCASE_PLANT = 1  # 炼钢二厂: holds the 党总支 and the demo secretary's branch
SHARED_AREAS = ("设备维护", "点检", "生产准备", "质量检验", "安全环保", "综合服务")
GENERAL_BRANCH_NAMES = ("生产党总支", "设备党总支", "运行党总支", "综合党总支")

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十, 35 → 三十五 (1..99), for 第N党小组 and the like."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CN_DIGITS[ones]
    head = "十" if tens == 1 else CN_DIGITS[tens] + "十"
    return head + (CN_DIGITS[ones] if ones else "")


def random_day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    """A uniform day in [start, end]; ``start`` when the range is empty.

    Always exactly one ``rng.random()`` call (``randint`` draws a varying number of bits
    depending on the span), so the names and the rest of the stream do not change with
    the date the demo is seeded on."""
    span = max((end - start).days, 0)
    return start + datetime.timedelta(days=int(rng.random() * (span + 1)))


def pick(rng: random.Random, population, cum_weights: list[float]):
    """``rng.choices(population, cum_weights=cum_weights)[0]``, the same draw from the
    same one ``rng.random()``, without the list: it runs twice per member."""
    return population[bisect.bisect(cum_weights, rng.random() * cum_weights[-1], 0, len(cum_weights) - 1)]


# --- plan records ---------------------------------------------------------------------


@dataclass(slots=True)
class UnitPlan:
    kind: str
    name: str
    code: str
    parent: int | None  # index into Plan.units; parents come before children
    depth: int
    sort_order: int = 0
    brand: str = ""
    brand_description: str = ""
    tier: str = ""
    established_on: datetime.date | None = None
    office: bool = False  # a 机关 branch: office posts, not shop-floor ones
    groups: list[int] = field(default_factory=list)


@dataclass(slots=True)
class TermPlan:
    branch: int
    number: int
    started_on: datetime.date
    length_years: int = 3


@dataclass(slots=True)
class TitlePlan:
    branch: int
    kind: str
    awarded_on: datetime.date
    withdrawn_on: datetime.date | None = None
    reason: str = ""


@dataclass(slots=True)
class PeriodPlan:
    branch: int
    group: int | None
    started_on: datetime.date
    ended_on: datetime.date | None = None
    end_reason: str = ""
    note: str = ""


@dataclass(slots=True)
class MemberPlan:
    name: str
    gender: str
    birth_date: datetime.date
    ethnicity: str
    employee_no: str
    phone: str
    post: str
    joined_on: datetime.date
    converted_on: datetime.date | None
    periods: list[PeriodPlan]
    left_on: datetime.date | None = None

    @property
    def current(self) -> PeriodPlan:
        """The last period: the open one, or the one that ended when the member left."""
        return self.periods[-1]

    @property
    def is_full(self) -> bool:
        return self.converted_on is not None


@dataclass(slots=True)
class RolePlan:
    member: int
    unit: int
    role: str
    started_on: datetime.date
    ended_on: datetime.date | None = None
    term: tuple[int, int] | None = None  # (branch index, term number)


@dataclass(slots=True)
class HonourPlan:
    member: int
    kind: str
    title: str
    stars: int | None
    awarded_on: datetime.date


@dataclass
class Plan:
    units: list[UnitPlan] = field(default_factory=list)
    branches: list[int] = field(default_factory=list)
    terms: list[TermPlan] = field(default_factory=list)
    titles: list[TitlePlan] = field(default_factory=list)
    members: list[MemberPlan] = field(default_factory=list)
    roles: list[RolePlan] = field(default_factory=list)
    honours: list[HonourPlan] = field(default_factory=list)
    committee: int = 0  # the plant committee the demo committee staffer is bound to
    showcase: int = 0  # the branch the demo secretary is bound to

    def add_unit(self, unit: UnitPlan) -> int:
        self.units.append(unit)
        if unit.kind == OrgUnit.Kind.BRANCH:
            self.branches.append(len(self.units) - 1)
        return len(self.units) - 1


# --- the organisation tree --------------------------------------------------------------


def _split(rng: random.Random, total: int, parts: int, low: float, high: float, minimum: int = 1) -> list[int]:
    """Split ``total`` into ``parts`` uneven shares (weights in [low, high]) that add up
    exactly, each at least ``minimum`` when the total allows it (largest remainder)."""
    minimum = min(minimum, total // parts)
    spare = total - minimum * parts
    weights = [rng.uniform(low, high) for _ in range(parts)]
    exact = [spare * w / sum(weights) for w in weights]
    shares = [math.floor(x) for x in exact]
    by_remainder = sorted(range(parts), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: spare - sum(shares)]:
        shares[i] += 1
    return [minimum + s for s in shares]


class TreeBuilder:
    """Lays out 集团党委 → plant committees → (分厂党委) → (党总支) → branches → groups."""

    def __init__(self, plan: Plan, rng: random.Random, *, large: bool):
        self.plan = plan
        self.rng = rng
        self.large = large
        self.groups_per_branch = (3, 5) if large else (2, 4)
        self.branch_seq: dict[str, int] = {}

    def build(self, branches: int) -> None:
        root = self.plan.add_unit(
            UnitPlan(OrgUnit.Kind.COMMITTEE, "集团党委", "GROUP", None, 0, established_on=datetime.date(1993, 7, 1))
        )
        n_plants = max(1, min(len(PLANTS), max(5, round(branches / 87)), branches // 3))
        quotas = _split(self.rng, branches, n_plants, 0.5, 1.6, minimum=3)
        # A tree too small for 炼钢二厂 shows off its only plant instead.
        showcase = min(SHOWCASE_PLANT, n_plants - 1)
        for index, quota in enumerate(quotas):
            self._plant(root, index, quota, showcase=index == showcase)

    def _plant(self, root: int, index: int, quota: int, *, showcase: bool) -> None:
        name, code, areas, subs = PLANTS[index]
        established = datetime.date(self.rng.randint(1995, 2008), self.rng.randint(1, 12), 1)
        plant = self.plan.add_unit(
            UnitPlan(OrgUnit.Kind.COMMITTEE, f"{name}党委", code, root, 1, index, established_on=established)
        )
        names = self._branch_names(areas.split(), quota)
        first_branch = len(self.plan.branches)
        # Only the big plants get a second committee level (分厂党委), as at Ansteel.
        if self.large and quota > 90:
            sub_names = subs.split()
            for i, share in enumerate(_split(self.rng, quota, max(2, round(quota / 45)), 0.7, 1.3)):
                sub_name = f"{sub_names[i]}分厂" if i < len(sub_names) else f"第{cn_number(i + 1)}分厂"
                sub = self.plan.add_unit(
                    UnitPlan(OrgUnit.Kind.COMMITTEE, f"{name}{sub_name}党委", f"{code}-F{i + 1}", plant, 2, i)
                )
                self._place_branches(sub, code, names, share, force_general=showcase and i == 0)
        else:
            self._place_branches(plant, code, names, quota, force_general=showcase)
        if showcase:
            self.plan.committee = plant
            self.plan.showcase = self.plan.branches[first_branch]

    def _branch_names(self, areas: list[str], count: int) -> list[tuple[str, bool]]:
        """``count`` distinct branch names, production areas first, then 机关 branches
        (about one in ten); areas repeat as 第二/第三… branches once used up."""
        offices = max(1, round(count / 10)) if count >= 3 else 0
        production = [f"{area}作业区" for area in areas] + list(SHARED_AREAS)
        names = []
        for k in range(count - offices):
            area = production[k % len(production)]
            round_no = k // len(production)
            names.append((f"{area}党支部" if round_no == 0 else f"{area}第{cn_number(round_no + 1)}党支部", False))
        names += [(f"机关第{cn_number(i + 1)}党支部", True) for i in range(offices)]
        return names

    def _place_branches(self, parent: int, code: str, names: list, count: int, *, force_general: bool) -> None:
        """Hang ``count`` branches (taken off ``names``) under ``parent``, some of them
        inside a 党总支 when the container is big enough or the demo wants one."""
        in_general, general = 0, None
        if (force_general and count >= 3) or (self.large and count >= 10 and self.rng.random() < 0.3):
            in_general = max(1, min(count - 2, self.rng.randint(3, 5)))
            depth = self.plan.units[parent].depth + 1
            gb_name = self.plan.units[parent].name.removesuffix("党委") + self.rng.choice(GENERAL_BRANCH_NAMES)
            general = self.plan.add_unit(
                UnitPlan(OrgUnit.Kind.GENERAL_BRANCH, gb_name, f"{self.plan.units[parent].code}-Z", parent, depth)
            )
        # The 党总支 takes the branches after the first, so the first (in the showcase
        # plant, the demo secretary's) and the 机关 ones at the end stay under the committee.
        for i in range(count):
            container = general if 0 < i <= in_general else parent
            self._branch(container, code, *names.pop(0), sort_order=i)

    def _branch(self, parent: int, code: str, name: str, office: bool, *, sort_order: int) -> None:
        rng = self.rng
        brand = rng.choice(BRANDS) if rng.random() < 0.65 else ""
        description = f"以“{brand}”为品牌，把党建工作融入{rng.choice(BRAND_FOCUS)}，推行党员示范岗、责任区和突击队。"
        tier = ""
        if rng.random() < 0.85:
            tier = rng.choices(list(OrgUnit.Tier), weights=(55, 30, 15))[0]
        seq = self.branch_seq[code] = self.branch_seq.get(code, 0) + 1
        branch = self.plan.add_unit(
            UnitPlan(
                OrgUnit.Kind.BRANCH,
                name,
                f"{code}-B{seq:03d}",
                parent,
                self.plan.units[parent].depth + 1,
                sort_order,
                brand=brand,
                brand_description=description if brand else "",
                tier=tier,
                established_on=random_day(rng, datetime.date(2005, 1, 1), datetime.date(2021, 12, 31)),
                office=office,
            )
        )
        unit = self.plan.units[branch]
        for g in range(rng.randint(*self.groups_per_branch)):
            unit.groups.append(
                self.plan.add_unit(
                    UnitPlan(
                        OrgUnit.Kind.GROUP,
                        f"第{cn_number(g + 1)}党小组",
                        f"{unit.code}-G{g + 1}",
                        branch,
                        unit.depth + 1,
                        g,
                    )
                )
            )


# --- terms and titles -------------------------------------------------------------------


def plan_terms(plan: Plan, rng: random.Random, today: datetime.date) -> None:
    """One open three-year term per branch, except one branch that has none yet. About
    one in six ends within 90 days and a few are overdue, so 换届提醒 has work; about a
    third also have the previous, closed term so the history shows a 换届."""
    three_years_ago = add_years(today, -3)
    others = [b for b in plan.branches if b != plan.showcase]
    without_term = rng.choice(others) if others else None
    for branch in plan.branches:
        if branch == without_term:
            continue
        if branch == plan.showcase:
            started = add_years(today + datetime.timedelta(days=45), -3)
        else:
            roll = rng.random()
            if roll < 0.18:  # due within the next 90 days
                started = add_years(today + datetime.timedelta(days=rng.randint(5, 88)), -3)
            elif roll < 0.24:  # overdue: should already have held its election
                started = random_day(rng, three_years_ago - datetime.timedelta(days=400), three_years_ago)
            else:
                started = random_day(
                    rng, three_years_ago + datetime.timedelta(days=91), today - datetime.timedelta(days=300)
                )
        number = 1
        if rng.random() < 0.3:
            previous = add_years(started, -3) - datetime.timedelta(days=rng.randint(0, 60))
            plan.terms.append(TermPlan(branch, 1, previous))
            number = 2
        plan.terms.append(TermPlan(branch, number, started))


def plan_titles(plan: Plan, rng: random.Random, today: datetime.date) -> None:
    """A few 样板支部 and one 示范基地 on the best-tiered branches, and one title
    withdrawn (摘牌) with its reason so the history page has an example."""
    best = [b for b in plan.branches if plan.units[b].tier in (OrgUnit.Tier.RED_FLAG, OrgUnit.Tier.EXEMPLARY)]
    rng.shuffle(best)
    count = min(len(best), max(4, round(len(plan.branches) * 0.02)))
    for i, branch in enumerate(best[:count]):
        kind = BranchTitle.Kind.DEMONSTRATION_BASE if i == 0 else BranchTitle.Kind.MODEL_BRANCH
        awarded = random_day(rng, add_years(today, -5), today - datetime.timedelta(days=200))
        plan.titles.append(TitlePlan(branch, kind, awarded))
    rest = [b for b in plan.branches if b not in best[:count] and b != plan.showcase]
    if rest:
        branch = rng.choice(rest)
        plan.units[branch].tier = OrgUnit.Tier.STANDARD
        awarded = random_day(rng, add_years(today, -5), add_years(today, -3))
        withdrawn = random_day(rng, add_years(today, -2), today - datetime.timedelta(days=200))
        reason = f"{withdrawn.year - 1}年度考核未达标，按样板党支部动态管理规定予以摘牌"
        plan.titles.append(TitlePlan(branch, BranchTitle.Kind.MODEL_BRANCH, awarded, withdrawn, reason))


# --- members and their history ----------------------------------------------------------

FULL, PROBATIONARY, DUE = "full", "probationary", "due"  # DUE: conversion due within 30 days


class PeopleFactory:
    """Makes believable members: ages, 政治生日 and conversion follow the rules in
    ``members.services.member_validate`` so every row would pass a form too."""

    def __init__(self, rng: random.Random, today: datetime.date, count: int):
        self.rng = rng
        self.today = today
        # "AG" + 6 digits as on an Ansteel badge; wider numbers only past 400k members.
        width = 6 if count <= 400_000 else 8
        self.numbers = iter(rng.sample(range(10 ** (width - 1), 10**width), count))

    def name(self, gender: str) -> str:
        rng = self.rng
        pool = MALE_GIVEN if gender == "M" else FEMALE_GIVEN
        given = "".join(rng.choice(pool) for _ in range(1 if rng.random() < 0.3 else 2))
        return pick(rng, SURNAMES, SURNAME_WEIGHTS) + given

    def dates(self, status: str) -> tuple[datetime.date, datetime.date, datetime.date | None, datetime.date]:
        """Birth, joining, conversion and the start of the membership period."""
        rng, today = self.rng, self.today
        if status == FULL:
            birth = random_day(rng, datetime.date(1965, 1, 1), datetime.date(2000, 12, 31))
            # Most join in their twenties, and early enough to have converted by now.
            eighteen = add_years(birth, 18)
            span = (today - datetime.timedelta(days=400) - eighteen).days
            joined = eighteen + datetime.timedelta(days=int(rng.triangular(0, min(27 * 365, span), min(4 * 365, span))))
            converted = add_years(joined, 1)
            if rng.random() < 0.15:  # probation extended or paperwork late
                converted += datetime.timedelta(days=rng.randint(1, 120))
            start = random_day(rng, max(joined, add_years(today, -15)), today - datetime.timedelta(days=90))
            return birth, joined, min(converted, today), start
        birth = random_day(rng, datetime.date(1986, 1, 1), datetime.date(2000, 12, 31))
        if status == DUE:
            joined = add_years(today + datetime.timedelta(days=rng.randint(1, 30)), -1)
        elif rng.random() < 0.1:  # probation extended: up to two months past the year
            joined = add_years(today, -1) - datetime.timedelta(days=rng.randint(1, 60))
        else:
            joined = today - datetime.timedelta(days=rng.randint(30, 330))
        return birth, joined, None, joined

    def member(self, branch: UnitPlan, branch_index: int, group: int | None, status: str) -> MemberPlan:
        rng = self.rng
        gender = "M" if rng.random() < (0.5 if branch.office else 0.75) else "F"
        birth, joined, converted, start = self.dates(status)
        return MemberPlan(
            name=self.name(gender),
            gender=gender,
            birth_date=birth,
            ethnicity=pick(rng, ETHNICITIES, ETHNICITY_WEIGHTS),
            employee_no=f"AG{next(self.numbers)}",
            phone=rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}",
            post=rng.choice(OFFICE_POSTS if branch.office else PRODUCTION_POSTS),
            joined_on=joined,
            converted_on=converted,
            periods=[PeriodPlan(branch_index, group, start)],
        )


def plan_members(plan: Plan, rng: random.Random, today: datetime.date, count: int) -> None:
    """Spread ``count`` members over the branches (uneven, at least three each), about
    one in ten probationary. The demo secretary's branch gets one conversion due in
    20 days and one recent joiner, so its reminders are never empty."""
    people = PeopleFactory(rng, today, count)
    sizes = _split(rng, count, len(plan.branches), 0.5, 1.5, minimum=3)
    for branch_index, size in zip(plan.branches, sizes, strict=True):
        branch = plan.units[branch_index]
        offset = rng.randrange(len(branch.groups))
        for i in range(size):
            group = branch.groups[(i + offset) % len(branch.groups)]
            if branch_index == plan.showcase and i < 2:
                status = DUE if i == 0 else PROBATIONARY
            elif rng.random() < 0.10:
                status = DUE if rng.random() < 0.3 else PROBATIONARY
            else:
                status = FULL
            member = people.member(branch, branch_index, group, status)
            if branch_index == plan.showcase and i == 0:
                member.joined_on = add_years(today + datetime.timedelta(days=20), -1)
                member.periods[0].started_on = member.joined_on
            plan.members.append(member)


def plan_moves(plan: Plan, rng: random.Random, today: datetime.date) -> None:
    """A handful of transfers (组织关系转接: closed period + new period) and a few
    members who left, so the history pages have something to show."""
    settled = [
        i
        for i, m in enumerate(plan.members)
        if m.is_full and m.current.started_on <= today - datetime.timedelta(days=200)
    ]
    total = len(plan.members)
    n_moves = min(max(5, total // 1000), total // 20)
    n_leavers = min(max(3, total // 5000), total // 50)
    chosen = rng.sample(settled, min(len(settled), n_moves + n_leavers))
    for i in chosen[:n_moves]:
        _transfer(plan, rng, today, plan.members[i])
    for i in chosen[n_moves:]:
        _leave(rng, today, plan.members[i])


def _transfer(plan: Plan, rng: random.Random, today: datetime.date, member: MemberPlan) -> None:
    old = member.current
    targets = [b for b in plan.branches if b != old.branch]
    if not targets:
        return
    target = rng.choice(targets)
    on_date = random_day(rng, old.started_on + datetime.timedelta(days=60), today - datetime.timedelta(days=10))
    note = f"因工作调动转入{plan.units[target].name}"
    old.ended_on, old.end_reason, old.note = on_date, Membership.EndReason.TRANSFER, note
    member.periods.append(PeriodPlan(target, rng.choice(plan.units[target].groups), on_date, note=note))


LEAVING = (
    (Membership.EndReason.TRANSFER_OUT, "退休，组织关系转至居住地社区党组织"),
    (Membership.EndReason.TRANSFER_OUT, "调离集团，组织关系转出"),
    (Membership.EndReason.DECEASED, "因病去世"),
)


def _leave(rng: random.Random, today: datetime.date, member: MemberPlan) -> None:
    period = member.current
    on_date = random_day(rng, period.started_on + datetime.timedelta(days=60), today - datetime.timedelta(days=10))
    period.ended_on = on_date
    period.end_reason, period.note = rng.choice(LEAVING)
    member.left_on = on_date


# --- roles and honours ------------------------------------------------------------------

COMMITTEE = (
    MemberRole.Role.SECRETARY,
    MemberRole.Role.ORGANISATION,
    MemberRole.Role.PROPAGANDA,
    MemberRole.Role.DISCIPLINE,
)


def plan_roles(plan: Plan, rng: random.Random) -> None:
    """Each branch committee (支委) from its full members, in the open term; the
    previous secretary where there was a previous term; a leader for every group."""
    by_branch: dict[int, list[int]] = {b: [] for b in plan.branches}
    for i, member in enumerate(plan.members):
        if member.left_on is None:
            by_branch[member.current.branch].append(i)
    terms: dict[int, list[TermPlan]] = {}
    for term in plan.terms:
        terms.setdefault(term.branch, []).append(term)
    for branch, members in by_branch.items():
        secretary = _branch_committee(plan, rng, branch, members, sorted(terms.get(branch, []), key=lambda t: t.number))
        _group_leaders(plan, rng, branch, members, secretary)


def _branch_committee(
    plan: Plan, rng: random.Random, branch: int, members: list[int], terms: list[TermPlan]
) -> int | None:
    """Plan the committee of one branch; returns the sitting secretary, if any."""
    full = [i for i in members if plan.members[i].is_full]
    rng.shuffle(full)
    roles = list(COMMITTEE)
    if len(members) > 50:
        roles.insert(1, MemberRole.Role.DEPUTY_SECRETARY)
    if len(members) > 30 and rng.random() < 0.5:
        roles.append(MemberRole.Role.YOUTH)
    term = terms[-1] if terms else None
    for role, i in zip(roles, full, strict=False):
        started = plan.members[i].current.started_on
        if term is not None:
            started = max(started, term.started_on)
        plan.roles.append(RolePlan(i, branch, role, started, term=(branch, term.number) if term else None))
    if len(terms) == 2:
        previous, current = terms
        veterans = [i for i in full[len(roles) :] if plan.members[i].current.started_on <= previous.started_on]
        if veterans:
            plan.roles.append(
                RolePlan(
                    veterans[0],
                    branch,
                    MemberRole.Role.SECRETARY,
                    previous.started_on,
                    ended_on=current.started_on,
                    term=(branch, previous.number),
                )
            )
    return full[0] if full else None


def _group_leaders(plan: Plan, rng: random.Random, branch: int, members: list[int], secretary: int | None) -> None:
    """A leader per party group, from its own members and not the branch secretary."""
    for group in plan.units[branch].groups:
        in_group = [i for i in members if plan.members[i].current.group == group and i != secretary]
        candidates = [i for i in in_group if plan.members[i].is_full] or in_group
        if candidates:
            leader = rng.choice(candidates)
            plan.roles.append(
                RolePlan(leader, group, MemberRole.Role.GROUP_LEADER, plan.members[leader].current.started_on)
            )


def plan_honours(plan: Plan, rng: random.Random, today: datetime.date) -> None:
    """党员示范岗 / 党员责任区 with 1–5 stars and 突击队 places for some members (more
    in the demo secretary's branch, so its roster shows them)."""
    kinds = (MemberHonour.Kind.MODEL_POST, MemberHonour.Kind.RESPONSIBILITY_AREA, MemberHonour.Kind.SHOCK_TEAM)
    for i, member in enumerate(plan.members):
        if member.left_on is not None:
            continue
        rate = 0.3 if member.current.branch == plan.showcase else 0.07
        if rng.random() >= rate:
            continue
        kind = rng.choices(kinds, weights=(40, 35, 25))[0]
        stars = None
        if kind == MemberHonour.Kind.MODEL_POST:
            title = f"{rng.choice(MODEL_POSTS)}党员示范岗"
        elif kind == MemberHonour.Kind.RESPONSIBILITY_AREA:
            title = f"{rng.choice(RESPONSIBILITY_AREAS)}党员责任区"
        else:
            title = f"{rng.choice(SHOCK_TEAMS)}党员突击队"
        if kind != MemberHonour.Kind.SHOCK_TEAM:
            stars = rng.choices((1, 2, 3, 4, 5), weights=(30, 28, 22, 13, 7))[0]
        awarded = random_day(rng, max(member.joined_on, add_years(today, -6)), today - datetime.timedelta(days=1))
        plan.honours.append(HonourPlan(i, kind, title, stars, awarded))


def plan_demo(rng: random.Random, today: datetime.date, *, members: int, branches: int, large: bool) -> Plan:
    """The whole demo organisation, decided before anything is written."""
    plan = Plan()
    TreeBuilder(plan, rng, large=large).build(branches)
    plan_terms(plan, rng, today)
    plan_titles(plan, rng, today)
    plan_members(plan, rng, today, members)
    plan_moves(plan, rng, today)
    plan_roles(plan, rng)
    plan_honours(plan, rng, today)
    return plan
