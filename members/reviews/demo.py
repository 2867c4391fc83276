"""The democratic review (民主评议党员) and talks with members for the demo, written
through the services: the showcase committee's branches review their members at this
year's 民主评议党员 meeting (logged with the organisational life); most reviews are
confirmed by the committee, one waits for confirmation and one is still being entered.
A 基本合格 member has a support plan that was followed up and closed; a 不合格 member's
plan is open and past its review date (so their annual stars are capped at ★1). The
showcase branch's secretary has recorded a few talks, some with follow-ups overdue."""

import datetime
import random

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from branches.activities.models import Activity
from branches.choices import ActivityKind
from branches.models import OrgUnit, RoleBinding
from members.ledger.services import rule_version_for

from . import selectors, services
from .models import MemberTalk, Rating
from .services import ResultRow

NOTES = ("带头完成攻关任务", "安全生产无违章", "积极参加志愿服务", "")
MEASURES = (
    "支部书记每月谈心谈话一次；结对党员帮助制定个人学习计划，按时参加“三会一课”；"
    "三个月后支委会复查，向支部党员大会报告帮促情况。"
)
TALKS = (
    (MemberTalk.Kind.HEART_TO_HEART, "了解家庭困难和岗位调整后的思想状况", "协调工会走访慰问", 20, 5),
    (MemberTalk.Kind.REMINDER, "近两个月“三会一课”迟到、学习笔记未按时完成", "一个月后检查学习笔记", 40, -12),
    (MemberTalk.Kind.REMINDER, "班组安全检查中发现违章作业苗头，抓早抓小提醒", "两周后回访班组安全确认", 25, -7),
    (MemberTalk.Kind.HEART_TO_HEART, "评议为基本合格后的思想交流，明确改进方向", "", 15, None),
)


def seed_reviews(
    *, committee: OrgUnit, showcase: OrgUnit, secretary: AbstractBaseUser, admin: AbstractBaseUser, rng: random.Random
) -> dict[str, int]:
    today = timezone.localdate()
    staff = (
        RoleBinding.objects.filter(unit=committee, role=RoleBinding.Role.COMMITTEE_STAFF).select_related("user").first()
    )
    confirmer = staff.user if staff else admin
    counts = {"reviews": 0, "results": 0, "plans": 0, "talks": 0}
    branches = list(
        OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, path__startswith=committee.path, dissolved_on__isnull=True)
        .exclude(pk=showcase.pk)
        .order_by("path")
    )
    plans_made = 0
    for n, branch in enumerate([showcase, *branches]):
        meeting = (
            Activity.objects.filter(
                branch=branch,
                kind=ActivityKind.DEMOCRATIC_REVIEW,
                status=Activity.Status.HELD,
                date__year=today.year,
            )
            .order_by("-date")
            .first()
        )
        if meeting is None:
            continue  # this branch has not held its review meeting yet
        user = secretary if branch == showcase else admin
        review = services.review_start(branch=branch, year=today.year, meeting=meeting, user=user)
        members = list(selectors.review_members(review=review))
        if not members:
            continue
        counts["reviews"] += 1
        share = rule_version_for(unit=branch, month=meeting.date.replace(day=1)).review_excellent_share
        excellent = set(rng.sample(range(len(members)), services.excellent_allowed(members=len(members), share=share)))
        ratings = [Rating.EXCELLENT if i in excellent else Rating.QUALIFIED for i in range(len(members))]
        needs = [i for i in range(len(members)) if i not in excellent]
        # The showcase branch has one 基本合格, the next branch one 不合格: each gets a plan.
        weak = {0: Rating.BASIC, 1: Rating.UNQUALIFIED}.get(n)
        weak_index = rng.choice(needs) if weak and needs else None
        if weak_index is not None:
            ratings[weak_index] = weak
        cast = len(members)
        rows = [
            ResultRow(
                member_id=member.pk,
                rating=rating,
                votes_for=cast - rng.randint(0, 3) if rating in (Rating.EXCELLENT, Rating.QUALIFIED) else None,
                votes_cast=cast if rating in (Rating.EXCELLENT, Rating.QUALIFIED) else None,
                note=rng.choice(NOTES) if rating == Rating.EXCELLENT else "",
            )
            for member, rating in zip(members, ratings, strict=True)
        ]
        services.review_results_save(review=review, rows=rows, user=user)
        counts["results"] += len(rows)
        last = n == len(branches)
        if last and n > 1:
            continue  # the last branch is still entering its grid
        services.review_submit(review=review, user=user)
        if n == 2:
            continue  # one branch waits for the committee's confirmation
        services.review_confirm(review=review, user=confirmer)
        if weak_index is not None:
            plans_made += _support_plan(
                review=review, member=members[weak_index], helpers=members, user=user, today=today
            )
    counts["plans"] = plans_made
    counts["talks"] = _talks(branch=showcase, user=secretary, today=today, rng=rng)
    return counts


def _support_plan(*, review, member, helpers, user, today: datetime.date) -> int:
    result = review.results.get(member=member)
    helpers = [h for h in helpers if h.pk != member.pk][:2]
    meeting_day = review.meeting.date
    if result.rating == Rating.BASIC:
        # Followed up and closed with an outcome.
        plan = services.support_plan_create(
            result=result, helpers=helpers, measures=MEASURES, review_on=max(meeting_day, today), user=user
        )
        services.support_follow_up_add(
            plan=plan, date=today, note="支部书记谈心谈话，本人表示按时参加组织生活，补齐学习笔记。", user=user
        )
        services.support_plan_close(
            plan=plan, closed_on=today, outcome="经帮促，组织生活全勤、学习笔记完整，思想认识明显提高。", user=user
        )
    else:
        # Open, and past its review date when the meeting was long enough ago.
        review_on = min(meeting_day + datetime.timedelta(days=7), today)
        plan = services.support_plan_create(
            result=result, helpers=helpers, measures=MEASURES, review_on=max(review_on, meeting_day), user=user
        )
        if meeting_day < today:
            services.support_follow_up_add(
                plan=plan, date=today, note="结对党员帮助学习《中国共产党章程》，本人写出整改承诺。", user=user
            )
    return 1


def _talks(*, branch: OrgUnit, user: AbstractBaseUser, today: datetime.date, rng: random.Random) -> int:
    members = list(branch.members.filter(left_on__isnull=True).order_by("employee_no")[:8])
    if not members:
        return 0
    written = 0
    talker = user.get_full_name() or "支部书记"
    for n, (kind, topic, follow_up, days_ago, due_in) in enumerate(TALKS):
        member = members[(n * 3) % len(members)]
        held_on = today - datetime.timedelta(days=days_ago)
        due = held_on + datetime.timedelta(days=days_ago + due_in) if due_in is not None else None
        talk = services.member_talk_record(
            member=member,
            held_on=held_on,
            kind=kind,
            talker_name=talker,
            talker_role="支部书记",
            topic=topic,
            follow_up=follow_up,
            follow_up_due=due if follow_up else None,
            user=user,
        )
        written += 1
        if n == 0 and due is not None:  # the first follow-up was done
            services.member_talk_follow_up_done(talk=talk, done_on=held_on + datetime.timedelta(days=3), user=user)
    return written
