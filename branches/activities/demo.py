"""Months of organisational life for the demo organisation, planned in memory.

Given the organisation planned by ``members.demo`` (members, periods, roles, groups)
and today's date, this decides which activities each branch held in the last few
months — 三会一课, 主题党日 on the 21st (seed 004), training with class hours, shock-team
work — who attended and how, and which points secretaries awarded or deducted by hand.
It is pure: plain dataclasses pointing at ``Plan`` list indices, from a seeded
``random.Random``. ``seed_demo`` writes it through the services (the small demo, so
every ledger entry is exactly what the application would post) or in bulk.

Who is on an activity's attendance list is worked out here from the plan's periods
and roles by the same rules as ``branches.activities.selectors.expected_attendees``,
so the bulk writer needs no query per activity and the service writer can check that
the plan and the application agree.
"""

import calendar
import datetime
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from branches.choices import ActivityKind, AttendanceStatus
from members.demo import SHOCK_TEAMS, Plan, cn_number
from members.models import MemberRole

Kind = ActivityKind
Status = AttendanceStatus

# --- word lists ---------------------------------------------------------------------

# 主题党日 themes by calendar month (seed 004: the 21st of every month).
THEMED_DAYS = {
    1: ("新春走访慰问困难党员主题党日", "弘扬孟泰精神 岗位建新功主题党日"),
    2: ("元宵节安全保产主题党日", "学习全国劳动模范先进事迹主题党日"),
    3: ("学雷锋志愿服务主题党日", "传承雷锋精神 争做时代先锋主题党日"),
    4: ("清明祭英烈 传承红色基因主题党日", "安全生产隐患大排查主题党日"),
    5: ("劳动创造幸福 弘扬劳模精神主题党日", "青年党员讲党史主题党日"),
    6: ("安全生产月主题党日", "“七一”前夕重温入党誓词主题党日"),
    7: ("庆祝中国共产党成立{party_years}周年主题党日", "重温入党誓词 过政治生日主题党日"),
    8: ("八一建军节拥军优属主题党日", "防汛保产 党员在行动主题党日"),
    9: ("纪念中国人民抗日战争胜利主题党日", "全民国防教育日主题党日"),
    10: ("学习贯彻党的二十届四中全会精神主题党日", "喜迎国庆 岗位奉献主题党日"),
    11: ("冬季安全生产 防寒保供主题党日", "学习贯彻党的二十届四中全会精神主题党日"),
    12: ("国家宪法日学法守法主题党日", "纪念毛泽东同志诞辰主题党日"),
}
THEMED_PLACES = ("党建活动室", "党建活动室", "作业区会议室", "鞍钢展览馆", "孟泰纪念馆", "雷锋纪念馆", "党员责任区现场")

STUDY_TOPICS = (
    "学习贯彻党的二十届四中全会精神",
    "习近平新时代中国特色社会主义思想专题学习",
    "学习《中国共产党支部工作条例（试行）》",
    "学习《中国共产党纪律处分条例》",
    "深入贯彻中央八项规定精神学习教育",
    "学习习近平总书记关于安全生产的重要论述",
    "学习“鞍钢宪法”精神和新时代产业工人队伍建设",
    "学习孟泰、雷锋、郭明义先进事迹",
)
TRAINING_TOPICS = STUDY_TOPICS + (
    "安全生产法律法规培训",
    "设备点检标准化作业培训",
    "质量管理与降本增效专题培训",
    "党务工作实务培训",
    "网络安全与保密知识培训",
    "班组长管理能力提升培训",
)
TRAINING_PLACES = ("职工培训中心", "党建活动室", "职工书屋", "作业区会议室", "线上视频会议")

COMMITTEE_AGENDAS = (
    "研究部署本月党建和生产经营重点工作",
    "研究发展党员和预备党员转正工作",
    "评定党员月度积分",
    "研究主题党日活动方案",
    "研究党员示范岗、责任区创建工作",
    "分析党员思想动态和职工队伍稳定情况",
    "研究“一支部一品牌”创建工作",
    "部署安全生产和设备检修工作",
)
GROUP_TOPICS = (
    "交流岗位建功体会",
    "开展谈心谈话和批评与自我批评",
    "讨论班组安全隐患整改",
    "学习先进典型事迹",
    "收集合理化建议",
) + STUDY_TOPICS
MEETING_PLACES = ("党建活动室", "作业区会议室", "支部会议室", "班组学习室")
OFFICE_PLACES = ("机关会议室", "党建活动室", "机关第二会议室")

LECTURES = (
    "传承孟泰精神 争当新时代产业工人",
    "学习雷锋精神 做新时代的“螺丝钉”",
    "以高质量党建引领企业高质量发展",
    "践行“鞍钢宪法” 推动基层民主管理",
    "从郭明义身上看共产党员的初心",
    "坚定理想信念 筑牢思想根基",
    "严守纪律规矩 锻造过硬作风",
    "学习贯彻党的二十届四中全会精神",
)

VOLUNTEER_TITLES = (
    "党员突击队检修攻坚",
    "{team}党员突击队集中攻坚",
    "学雷锋志愿服务进社区",
    "义务劳动 清理厂区环境卫生",
    "防汛保产党员突击",
    "党员先锋岗设备抢修",
)
VOLUNTEER_PLACES = ("检修现场", "作业区现场", "厂区周边社区", "高炉平台", "成品库")

AWARD_REASONS = (
    "在{team}中带头攻坚，提前完成检修任务",
    "发现并排除重大设备隐患，避免非计划停机",
    "提出的合理化建议年创效约{n}万元",
    "获评厂级月度安全标兵",
    "在岗位技能比武中获得一等奖",
    "带头参加冬季保供突击，连续奋战{n}个班次",
    "党员责任区连续三个月无安全事故",
)
EVIDENCE_NAMES = ("表彰决定.pdf", "事迹材料.pdf", "厂级通报.pdf")
DEDUCTION_REASONS = (
    "无故缺席党小组会且未补学",
    "未按期交纳党费",
    "违反安全操作规程，被作业区通报考核",
    "未按时完成当月理论学习任务",
    "工作时间脱岗，被厂部通报",
)
REVERSAL_REASONS = (
    "录入错误：表彰对象应为同班组另一名党员，冲销后重新录入",
    "经支委会复核，扣分依据不足，予以撤销",
    "重复录入，冲销",
)
CANCEL_REASON = "与同月党小组会重复录入，作废"

# Attendance at a meeting: mostly present, about 6% late, 5% excused (请假), 2% absent.
MEETING_MIX = ((0.02, Status.ABSENT), (0.07, Status.EXCUSED), (0.13, Status.LATE))
# Shock-team and volunteer work: whoever is on shift cannot come, so many are excused.
VOLUNTEER_MIX = ((0.01, Status.ABSENT), (0.40, Status.EXCUSED), (0.44, Status.LATE))

# How often a branch misses what is required (so compliance has gaps to show).
MISS_COMMITTEE = 0.06
MISS_GROUP = 0.15
MISS_THEMED_DAY = 0.04
MISS_QUARTERLY = 0.15


# --- plan records ---------------------------------------------------------------------


@dataclass(slots=True)
class ActivityPlan:
    branch: int  # index into Plan.units
    kind: str
    title: str
    date: datetime.date
    place: str = ""
    host: str = ""
    minutes: str = ""
    group: int | None = None
    class_hours: Decimal | None = None
    # Everyone on the attendance list (member index → final status), in employee-number
    # order, as ``expected_attendees`` would list them.
    attendance: dict[int, str] = field(default_factory=dict)
    attachment: str = ""  # "", "photo" or "pdf": the writer attaches a generated file
    cancel_reason: str = ""  # logged by mistake and cancelled with this reason


@dataclass(slots=True)
class EntryPlan:
    """A manual award or deduction by the branch secretary (``ledger_entry_record``)."""

    member: int
    rule: str  # rule code in the default rule set
    month: datetime.date
    points: Decimal
    reason: str
    evidence: str = ""  # file name of the generated PDF, when the rule needs evidence
    reverse_reason: str = ""  # later corrected by a reversing entry with this reason


@dataclass
class LifePlan:
    months: list[datetime.date] = field(default_factory=list)  # first days, oldest first
    activities: list[ActivityPlan] = field(default_factory=list)  # by date
    entries: list[EntryPlan] = field(default_factory=list)  # by month
    close_month: datetime.date | None = None  # closed for every grading committee
    close_reason: str = ""

    def activities_in(self, month: datetime.date) -> list[ActivityPlan]:
        return [a for a in self.activities if a.date.replace(day=1) == month]

    def entries_in(self, month: datetime.date) -> list[EntryPlan]:
        return [e for e in self.entries if e.month == month]


# --- who belonged where -------------------------------------------------------------------


class Roster:
    """The plan's members, periods and roles indexed for date lookups. Periods are
    half-open [started_on, ended_on); roles are closed [started_on, ended_on], as in
    ``expected_attendees``."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.periods: dict[int, list[tuple[str, int, int | None, datetime.date, datetime.date | None]]] = defaultdict(
            list
        )
        for i, member in enumerate(plan.members):
            for p in member.periods:
                self.periods[p.branch].append((member.employee_no, i, p.group, p.started_on, p.ended_on))
        for rows in self.periods.values():
            rows.sort()
        self.committee: dict[int, list] = defaultdict(list)
        self.secretaries: dict[int, list] = defaultdict(list)
        self.leaders: dict[int, list] = defaultdict(list)
        for r in plan.roles:
            span = (plan.members[r.member].employee_no, r.member, r.started_on, r.ended_on)
            if r.role in MemberRole.COMMITTEE_ROLES:
                self.committee[r.unit].append(span)
            if r.role == MemberRole.Role.SECRETARY:
                self.secretaries[r.unit].append(span)
            if r.role == MemberRole.Role.GROUP_LEADER:
                self.leaders[r.unit].append(span)
        for rows in self.committee.values():
            rows.sort()

    def members_at(self, branch: int, day: datetime.date, group: int | None = None) -> list[int]:
        return [
            i
            for _no, i, g, start, end in self.periods[branch]
            if start <= day and (end is None or end > day) and (group is None or g == group)
        ]

    def committee_at(self, branch: int, day: datetime.date) -> list[int]:
        seen: dict[int, None] = {}
        for _no, i, start, end in self.committee[branch]:
            if start <= day and (end is None or end >= day):
                seen[i] = None
        return list(seen)

    def _holder(self, spans: list, day: datetime.date) -> str:
        for _no, i, start, end in spans:
            if start <= day and (end is None or end >= day):
                return self.plan.members[i].name
        return ""

    def secretary_at(self, branch: int, day: datetime.date) -> str:
        return self._holder(self.secretaries[branch], day)

    def leader_at(self, group: int, day: datetime.date) -> str:
        return self._holder(self.leaders[group], day)

    def settled(self, branch: int, month: datetime.date) -> list[int]:
        """Current members whose present placement in ``branch`` began by ``month``: the
        secretary can award them points for that month (the ledger books an award to
        the member's present branch, and refuses members who have left)."""
        return [
            i
            for _no, i, _g, start, end in self.periods[branch]
            if end is None and start <= month and self.plan.members[i].left_on is None
        ]


# --- dates --------------------------------------------------------------------------------


def month_starts(today: datetime.date, complete: int) -> list[datetime.date]:
    """The first days of the ``complete`` months before today's, then today's month."""
    if complete <= 0:
        return []
    index = today.year * 12 + today.month - 1
    return [datetime.date((index - k) // 12, (index - k) % 12 + 1, 1) for k in range(complete, -1, -1)]


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def workday(day: datetime.date) -> datetime.date:
    """Meetings fall on weekdays: a weekend day moves back to Friday, or forward to
    Monday when Friday is in the month before."""
    if day.weekday() < 5:
        return day
    back = day - datetime.timedelta(days=day.weekday() - 4)
    if back.month == day.month:
        return back
    return day + datetime.timedelta(days=7 - day.weekday())


def training_title(topic: str) -> str:
    """学习《条例》 → 学习《条例》专题培训; 党务工作实务培训 stays; 思想 → 思想专题学习."""
    if topic.endswith(("培训", "学习", "学习教育")):
        return topic
    return f"{topic}专题培训" if topic.startswith("学习") else f"{topic}专题学习"


def cn_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- the planner ----------------------------------------------------------------------------


class LifePlanner:
    """Plans each branch's months. ``extras`` adds what only the service writer can
    write faithfully: attachments, evidence files, a cancelled activity, corrections."""

    def __init__(self, plan: Plan, rng: random.Random, today: datetime.date, *, extras: bool):
        self.plan = plan
        self.rng = rng
        self.today = today
        self.extras = extras
        self.roster = Roster(plan)
        self.life = LifePlan()

    def build(self, complete_months: int) -> LifePlan:
        life = self.life
        life.months = month_starts(self.today, complete_months)
        for month in life.months:
            for branch in self.plan.branches:
                self._month(branch, month)
        for branch in self.plan.branches:
            self._quarters(branch)
            self._yearly(branch)
        life.activities.sort(key=lambda a: (a.date, a.branch))
        for month in life.months:
            for branch in self.plan.branches:
                self._manual(branch, month)
        if self.extras and len(life.months) >= 2:
            self._corrections()
        complete = [m for m in life.months if month_end(m) < self.today]
        if len(complete) >= 2:
            life.close_month = complete[0]
            life.close_reason = f"{complete[0].year}年{complete[0].month}月考核结果已公示，月度关账"
        return life

    # --- activities ---------------------------------------------------------------------

    def _add(self, activity: ActivityPlan, mix=MEETING_MIX) -> ActivityPlan | None:
        if activity.date > self.today or activity.date < self.life.months[0]:
            return None
        roster, day = self.roster, activity.date
        if activity.kind == Kind.GROUP_MEETING:
            attendees = roster.members_at(activity.branch, day, activity.group)
        elif activity.kind == Kind.COMMITTEE_MEETING:
            attendees = roster.committee_at(activity.branch, day)
        else:
            attendees = roster.members_at(activity.branch, day)
        if not attendees:
            return None
        activity.attendance = {i: self._status(mix) for i in attendees}
        if activity.kind in (Kind.GENERAL_MEETING, Kind.COMMITTEE_MEETING, Kind.GROUP_MEETING, Kind.THEMED_DAY):
            activity.minutes = self._minutes(activity)
        self.life.activities.append(activity)
        return activity

    def _status(self, mix) -> str:
        roll = self.rng.random()
        for threshold, status in mix:
            if roll < threshold:
                return status
        return Status.PRESENT

    def _place(self, branch: int, choices: tuple[str, ...]) -> str:
        if self.plan.units[branch].office and choices is MEETING_PLACES:
            choices = OFFICE_PLACES
        return self.rng.choice(choices)

    def _day(self, month: datetime.date, first: int, last: int) -> datetime.date:
        last = min(last, month_end(month).day)
        return workday(month.replace(day=self.rng.randint(first, last)))

    def _month(self, branch: int, month: datetime.date) -> None:
        rng, unit = self.rng, self.plan.units[branch]
        m = month.month
        secretary = lambda day: self.roster.secretary_at(branch, day)  # noqa: E731
        if rng.random() >= MISS_COMMITTEE:
            day = self._day(month, 2, 10)
            self._add(
                ActivityPlan(
                    branch,
                    Kind.COMMITTEE_MEETING,
                    f"{m}月支委会：{rng.choice(COMMITTEE_AGENDAS)}",
                    day,
                    self._place(branch, MEETING_PLACES),
                    secretary(day),
                )
            )
        # The demo secretary's branch misses one group meeting last month, so its own
        # compliance page shows a gap; elsewhere about one in seven is missed.
        last_month = month == self.life.months[-2]
        showcase_gap = branch == self.plan.showcase and last_month
        for n, group in enumerate(unit.groups):
            if rng.random() < MISS_GROUP or (showcase_gap and n == len(unit.groups) - 1):
                continue
            day = self._day(month, 6, 28)
            activity = self._add(
                ActivityPlan(
                    branch,
                    Kind.GROUP_MEETING,
                    f"{self.plan.units[group].name}{m}月党小组会：{rng.choice(GROUP_TOPICS)}",
                    day,
                    self._place(branch, MEETING_PLACES),
                    self.roster.leader_at(group, day) or secretary(day),
                    group=group,
                )
            )
            if activity and self.extras and showcase_gap and not any(a.cancel_reason for a in self.life.activities):
                self._duplicate(activity)
        if rng.random() >= MISS_THEMED_DAY or branch == self.plan.showcase:
            day = month.replace(day=21)
            title = rng.choice(THEMED_DAYS[m]).format(party_years=month.year - 1921)
            self._add(
                ActivityPlan(
                    branch,
                    Kind.THEMED_DAY,
                    title,
                    day,
                    rng.choice(THEMED_PLACES),
                    secretary(day),
                    attachment=self._attachment(branch, themed=True),
                )
            )
        for _ in range(rng.choice((1, 1, 2))):
            day = self._day(month, 4, 27)
            hours = Decimal(rng.choice(("2", "2", "3", "3", "4", "2.5", "3.5")))
            topic = rng.choice(TRAINING_TOPICS)
            self._add(
                ActivityPlan(
                    branch,
                    Kind.TRAINING,
                    training_title(topic),
                    day,
                    rng.choice(TRAINING_PLACES),
                    secretary(day),
                    minutes=f"围绕“{topic}”集中学习{hours}学时，学习后进行了交流研讨和测试。",
                    class_hours=hours,
                    attachment=self._attachment(branch),
                )
            )
        if rng.random() < 0.3:
            day = month.replace(day=rng.randint(1, month_end(month).day))
            self._add(
                ActivityPlan(
                    branch,
                    Kind.VOLUNTEER,
                    rng.choice(VOLUNTEER_TITLES).format(team=rng.choice(SHOCK_TEAMS)),
                    day,
                    rng.choice(VOLUNTEER_PLACES),
                    secretary(day),
                    minutes="党员突击队按分工完成任务，现场安全有序。",
                ),
                mix=VOLUNTEER_MIX,
            )

    def _duplicate(self, original: ActivityPlan) -> None:
        """The same meeting logged twice, the copy cancelled: the demo's cancellation."""
        copy = ActivityPlan(
            original.branch,
            original.kind,
            original.title,
            original.date,
            original.place,
            original.host,
            original.minutes,
            group=original.group,
            attendance=dict.fromkeys(original.attendance, Status.PRESENT),
            cancel_reason=CANCEL_REASON,
        )
        self.life.activities.append(copy)

    def _attachment(self, branch: int, *, themed: bool = False) -> str:
        if not self.extras:
            return ""
        if branch == self.plan.showcase:
            return "photo" if themed else "pdf"
        return self.rng.choices(("", "photo", "pdf"), weights=(85, 10, 5))[0]

    def _quarters(self, branch: int) -> None:
        """Each quarter that overlaps the months: a 支部党员大会 and a 党课 at some point
        in it (a quarter not over yet may not have had them so far; some branches miss
        them altogether)."""
        rng, first = self.rng, self.life.months[0]
        quarters = sorted({(m.year, (m.month - 1) // 3) for m in self.life.months})
        for year, q in quarters:
            q_start = datetime.date(year, 3 * q + 1, 1)
            q_end = month_end(datetime.date(year, 3 * q + 3, 1))
            start, end = max(q_start, first), min(q_end, self.today)
            if start > end:
                continue
            elapsed = min(1.0, ((end - q_start).days + 1) / ((q_end - q_start).days + 1))
            for kind in (Kind.GENERAL_MEETING, Kind.PARTY_LECTURE):
                if rng.random() >= (1 - MISS_QUARTERLY) * elapsed:
                    continue
                day = start + datetime.timedelta(days=rng.randint(0, (end - start).days))
                if start <= workday(day) <= end:
                    day = workday(day)
                host = self.roster.secretary_at(branch, day)
                if kind == Kind.GENERAL_MEETING:
                    title = f"{year}年第{cn_number(q + 1)}季度支部党员大会"
                    self._add(ActivityPlan(branch, kind, title, day, self._place(branch, MEETING_PLACES), host))
                else:
                    title = f"书记讲党课：{rng.choice(LECTURES)}"
                    self._add(
                        ActivityPlan(
                            branch,
                            kind,
                            title,
                            day,
                            self._place(branch, MEETING_PLACES),
                            host,
                            minutes=f"{host or '支部书记'}同志以“{title.split('：', 1)[1]}”为题讲授党课。",
                            class_hours=Decimal("2"),
                        )
                    )

    def _yearly(self, branch: int) -> None:
        """Each year the months reach far into (a quarter or more): the 组织生活会 and the
        民主评议党员 meeting that follows it (seed 003), due by December; a few branches
        have not held them yet."""
        rng = self.rng
        for year in sorted({m.year for m in self.life.months}):
            months = [m for m in self.life.months if m.year == year]
            start = max(months[0], datetime.date(year, 1, 1))
            end = min(month_end(months[-1]), self.today)
            if len(months) < 3 or rng.random() < MISS_QUARTERLY:
                continue
            day = workday(start + datetime.timedelta(days=rng.randint(0, max((end - start).days - 3, 0))))
            host = self.roster.secretary_at(branch, day)
            place = self._place(branch, MEETING_PLACES)
            self._add(ActivityPlan(branch, Kind.ORG_LIFE_MEETING, f"{year}年度专题组织生活会", day, place, host))
            review = min(day + datetime.timedelta(days=1), end)
            self._add(ActivityPlan(branch, Kind.DEMOCRATIC_REVIEW, f"{year}年度民主评议党员", review, place, host))

    def _minutes(self, a: ActivityPlan) -> str:
        counts = defaultdict(int)
        for status in a.attendance.values():
            counts[status] += 1
        attended = counts[Status.PRESENT] + counts[Status.LATE]
        lines = [
            f"时间：{cn_date(a.date)}　地点：{a.place}",
            f"主持人：{a.host or '支部书记'}　应到{len(a.attendance)}人，实到{attended}人"
            + (f"，请假{counts[Status.EXCUSED]}人" if counts[Status.EXCUSED] else "")
            + (f"，缺席{counts[Status.ABSENT]}人" if counts[Status.ABSENT] else ""),
        ]
        topic = self.rng.choice(STUDY_TOPICS)
        if a.kind == Kind.COMMITTEE_MEETING:
            items = ("传达上级党委工作部署", a.title.split("：", 1)[-1], "安排下月支部重点工作")
        elif a.kind == Kind.GROUP_MEETING:
            items = (a.title.split("：", 1)[-1], "党员逐一发言交流", "小组长总结并布置下步工作")
        elif a.kind == Kind.GENERAL_MEETING:
            items = ("支部书记通报本季度支部工作", "讨论预备党员转正和党员积分评定", "部署下季度重点工作")
        else:
            items = (topic, "重温入党誓词", "党员代表交流发言")
        lines += [f"{cn_number(n + 1)}、{item}" for n, item in enumerate(items)]
        return "\n".join(lines)

    # --- manual points ------------------------------------------------------------------

    def _manual(self, branch: int, month: datetime.date) -> None:
        """The month's study task (+3) for most members; awards with evidence for a few,
        now and then a deduction with its reason."""
        rng = self.rng
        settled = self.roster.settled(branch, month)
        if not settled:
            return
        current = month_end(month) >= self.today
        # In the month under way only those who have finished the task so far.
        share = 0.9 if not current else (0.6 if self.today.day >= 15 else 0.2)
        topic = rng.choice(STUDY_TOPICS)
        for i in settled:
            if rng.random() < share:
                reason = f"完成{month.month}月理论学习任务：{topic}"
                self.life.entries.append(EntryPlan(i, "study_task", month, Decimal("3"), reason))
        # The demo secretary's branch always has an award or two to show, and more often a deduction.
        showcase = branch == self.plan.showcase
        for _ in range(rng.choices((0, 1, 2), weights=(0, 60, 40) if showcase else (35, 45, 20))[0]):
            reason = rng.choice(AWARD_REASONS).format(team=rng.choice(SHOCK_TEAMS), n=rng.randint(3, 30))
            self.life.entries.append(
                EntryPlan(
                    rng.choice(settled),
                    "exemplary_award",
                    month,
                    Decimal(rng.randint(2, 8)),
                    reason,
                    evidence=rng.choice(EVIDENCE_NAMES),
                )
            )
        if rng.random() < (0.5 if showcase else 0.25):
            self.life.entries.append(
                EntryPlan(
                    rng.choice(settled), "deduction", month, Decimal(-rng.randint(1, 5)), rng.choice(DEDUCTION_REASONS)
                )
            )

    def _corrections(self) -> None:
        """Three entries corrected by reversal: an award in the demo secretary's branch
        last month, and an award and a deduction elsewhere."""
        recent = set(self.life.months[-2:])
        branch_of = {i: m.current.branch for i, m in enumerate(self.plan.members)}
        showcase = self.plan.showcase

        def pick(rule: str, *, own: bool) -> EntryPlan | None:
            for e in self.life.entries:
                if e.rule == rule and e.month in recent and not e.reverse_reason:
                    if (branch_of[e.member] == showcase) == own:
                        return e
            return None

        for (rule, own), reason in zip(
            (("exemplary_award", True), ("exemplary_award", False), ("deduction", False)),
            REVERSAL_REASONS,
            strict=True,
        ):
            entry = pick(rule, own=own) or pick(rule, own=not own)
            if entry is None:
                continue
            entry.reverse_reason = reason
            if reason == REVERSAL_REASONS[0]:
                # The award went to the wrong member: recorded again for the right one.
                others = [i for i in self.roster.settled(branch_of[entry.member], entry.month) if i != entry.member]
                if others:
                    right = EntryPlan(
                        self.rng.choice(others), entry.rule, entry.month, entry.points, entry.reason, entry.evidence
                    )
                    self.life.entries.insert(self.life.entries.index(entry) + 1, right)


def plan_life(plan: Plan, rng: random.Random, today: datetime.date, *, months: int, extras: bool = True) -> LifePlan:
    """``months`` complete months before today's and today's month so far."""
    return LifePlanner(plan, rng, today, extras=extras).build(months)
