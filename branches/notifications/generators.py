"""The reminder generators: one function per kind, each for everyone at once.

Each reads what is due with the selectors of the app that owns it (a fixed number of
queries however many branches, members or users there are), finds the recipients in
one query over ``RoleBinding``, and inserts its notifications in one statement with
ON CONFLICT DO NOTHING on (user, kind, subject, period): a generator run twice on a
day, or again on the next day of its window, adds nothing. A window (the three days
before the 主题党日, the last five days of the month, the 90 days before a term ends …)
rather than one exact day, so a day beat missed is caught up the day after.

Who gets what: a branch's secretary (a ``RoleBinding`` of the secretary role on the
branch itself) hears about their branch's meetings, conversions, terms and talks with
members; the staff of the branch's nearest party committee hear about terms running out
and the talks (谈话帮扶) they owe bottom-three branches. A project's milestones go to the
secretary of its lead branch, a report-back draw (月述职) to the drawn unit's secretary.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext

from branches.activities.compliance import (
    DAY_RULED_KINDS,
    compliance_matrix,
    first_of_month,
    month_end,
    schemes_for,
    set_day_in,
)
from branches.grading.publishing import TalkState, talk_board
from branches.models import OrgUnit, RoleBinding
from branches.projects.models import Milestone, Project
from branches.reportback.models import Draw, Report
from branches.selectors import committees_for, terms_expiring
from branches.services import month_label
from members.models import Member
from members.reviews.models import MemberTalk
from members.selectors import conversion_due_on, conversions_due

from .models import Kind, Notification

Role = RoleBinding.Role

THEMED_DAY_NOTICE = 3  # days before the 主题党日
REQUIREMENTS_NOTICE = 5  # days before the month ends
CONVERSION_NOTICE = 30  # days before a probationary member's year ends
TALK_NOTICE = 3  # days before a talk or a follow-up is due
MILESTONE_NOTICE = 7  # days before a project milestone is due


@dataclass(frozen=True)
class Reminder:
    """One reminder about one subject, before its recipients are known: sent to the
    holders of ``role`` on ``unit_id``."""

    unit_id: int
    role: str
    subject: str
    period: str
    title: str
    body: str
    url: str


def _active_branches() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, dissolved_on__isnull=True))


def _insert(kind: str, reminders: Iterable[Reminder]) -> int:
    """Every reminder to every holder of its role on its unit: one query for the
    recipients, one INSERT … ON CONFLICT DO NOTHING. Returns the rows offered."""
    reminders = list(reminders)
    if not reminders:
        return 0
    wanted = {(r.role, r.unit_id) for r in reminders}
    holders: dict[tuple[str, int], list[int]] = defaultdict(list)
    rows = RoleBinding.objects.filter(
        role__in={role for role, _unit in wanted},
        unit_id__in={unit for _role, unit in wanted},
        user__is_active=True,
    ).values_list("role", "unit_id", "user_id")
    for role, unit_id, user_id in rows:
        holders[(role, unit_id)].append(user_id)
    notifications = [
        Notification(
            user_id=user_id,
            kind=kind,
            subject=r.subject,
            period=r.period,
            title=r.title[:200],
            body=r.body,
            url=r.url,
        )
        for r in reminders
        for user_id in sorted(set(holders.get((r.role, r.unit_id), ())))
    ]
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    return len(notifications)


# --- the kinds ---------------------------------------------------------------------------


def themed_day_reminders(*, today: datetime.date) -> int:
    """主题党日: from three days before the version's day (the 21st by default; the
    month's last day in a shorter month) to the day itself, to the secretary of each
    branch that has not held this month's yet."""
    month = first_of_month(today)
    branches = _active_branches()
    schemes = schemes_for(units=branches, months=[month])
    coming: dict[int, tuple[OrgUnit, datetime.date]] = {}
    for branch in branches:
        scheme = schemes.get((branch.pk, month))
        if scheme is None or not any(s.kind in DAY_RULED_KINDS and s.period_start(month) for s in scheme.specs):
            continue
        day = month.replace(day=set_day_in(month, scheme.themed_day))
        if day - datetime.timedelta(days=THEMED_DAY_NOTICE) <= today <= day:
            coming[branch.pk] = (branch, day)
    if not coming:
        return 0
    # Judged as at the month's end: every requirement still unmet reads as missing.
    cells = compliance_matrix(
        branches=[b for b, _day in coming.values()], months=[month], today=month_end(month) + datetime.timedelta(1)
    )
    reminders = []
    for branch, day in coming.values():
        cell = cells.get((branch.pk, month))
        if cell is None or not any(r.kind in DAY_RULED_KINDS for r in cell.missing_requirements):
            continue
        values = {"branch": branch.name, "date": date_format(day)}
        reminders.append(
            Reminder(
                unit_id=branch.pk,
                role=Role.SECRETARY,
                subject=f"branch:{branch.pk}",
                period=f"{month:%Y-%m}",
                title=gettext("Themed party day on %(date)s") % values,
                body=gettext("%(branch)s has not held this month's themed party day yet; it is set for %(date)s.")
                % values,
                url=reverse("activities:create") + f"?branch={branch.pk}",
            )
        )
    return _insert(Kind.THEMED_DAY, reminders)


def requirements_due_reminders(*, today: datetime.date) -> int:
    """Five days before the month ends (and until it does), to the secretary of each
    branch with meetings of the month still unmet (三会一课), naming them."""
    month = first_of_month(today)
    last = month_end(month)
    if not last - datetime.timedelta(days=REQUIREMENTS_NOTICE) <= today <= last:
        return 0
    branches = _active_branches()
    cells = compliance_matrix(branches=branches, months=[month], today=last + datetime.timedelta(days=1))
    reminders = []
    for branch in branches:
        cell = cells.get((branch.pk, month))
        if cell is None or not cell.missing_requirements:
            continue
        values = {
            "branch": branch.name,
            "month": month_label(month),
            "count": len(cell.missing_requirements),
            "list": pgettext("list separator", ", ").join(cell.missing_labels),
            "date": date_format(last),
        }
        reminders.append(
            Reminder(
                unit_id=branch.pk,
                role=Role.SECRETARY,
                subject=f"branch:{branch.pk}",
                period=f"{month:%Y-%m}",
                title=gettext("%(count)s meetings of %(month)s still due") % values,
                body=gettext("%(branch)s has still to hold, by %(date)s: %(list)s.") % values,
                url=reverse("activities:compliance_month", args=[branch.pk, month.year, month.month]),
            )
        )
    return _insert(Kind.REQUIREMENTS_DUE, reminders)


def term_expiring_reminders(*, today: datetime.date) -> int:
    """换届: from ``TERM_REMINDER_DAYS`` before a branch's open term ends (or once it
    has run out), to the branch's secretary and its committee's staff; once per term."""
    terms = list(
        terms_expiring(
            units=OrgUnit.objects.filter(dissolved_on__isnull=True),
            today=today,
            within_days=settings.TERM_REMINDER_DAYS,
        )
    )
    committees = committees_for(units=[t.branch for t in terms]) if terms else {}
    reminders = []
    for term in terms:
        values = {"branch": term.branch.name, "number": term.number, "date": date_format(term.ends_on)}
        if term.ends_on < today:
            title = gettext("Term of %(branch)s overdue since %(date)s") % values
        else:
            title = gettext("Term of %(branch)s ends on %(date)s") % values
        body = gettext("Term %(number)s of %(branch)s is due to end on %(date)s: prepare the election.") % values
        common = {
            "subject": f"term:{term.pk}",
            "period": term.ends_on.isoformat(),
            "title": title,
            "body": body,
            "url": reverse("branches:unit_detail", args=[term.branch_id]),
        }
        reminders.append(Reminder(unit_id=term.branch_id, role=Role.SECRETARY, **common))
        committee = committees.get(term.branch_id)
        if committee is not None:
            reminders.append(Reminder(unit_id=committee.pk, role=Role.COMMITTEE_STAFF, **common))
    return _insert(Kind.TERM_EXPIRING, reminders)


def conversion_due_reminders(*, today: datetime.date) -> int:
    """转正: from 30 days before a probationary member's year ends, to the secretary of
    their branch; once per member and due date."""
    members = conversions_due(
        members=Member.objects.filter(branch__dissolved_on__isnull=True), today=today, within_days=CONVERSION_NOTICE
    )
    reminders = []
    for member in members:
        due = conversion_due_on(member)
        values = {"member": member.name, "date": date_format(due)}
        reminders.append(
            Reminder(
                unit_id=member.branch_id,
                role=Role.SECRETARY,
                subject=f"member:{member.pk}",
                period=due.isoformat(),
                title=gettext("%(member)s: full membership due on %(date)s") % values,
                body=gettext(
                    "The probation of %(member)s ends on %(date)s: hold the branch meeting on their full membership."
                )
                % values,
                url=reverse("members:detail", args=[member.pk]),
            )
        )
    return _insert(Kind.CONVERSION_DUE, reminders)


def talk_due_reminders(*, today: datetime.date) -> int:
    """谈话帮扶: from three days before a bottom-three branch's talk is due (and while it
    is overdue), to the staff of the committee that owes it; once per branch and month.
    The talk board of each committee that has published (three queries each)."""
    committees = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, publications__isnull=False).distinct()
    reminders = []
    for committee in committees:
        for due in talk_board(committee, today):
            if due.state == TalkState.RECORDED or today < due.due_on - datetime.timedelta(days=TALK_NOTICE):
                continue
            values = {"branch": due.branch.name, "month": month_label(due.month), "date": date_format(due.due_on)}
            reminders.append(
                Reminder(
                    unit_id=committee.pk,
                    role=Role.COMMITTEE_STAFF,
                    subject=f"branch:{due.branch.pk}",
                    period=f"{due.month:%Y-%m}",
                    title=gettext("Talk with %(branch)s due on %(date)s") % values,
                    body=gettext("%(branch)s was in the bottom three of %(month)s: the talk is due by %(date)s.")
                    % values,
                    url=reverse("grading:talks", args=[committee.pk]),
                )
            )
    return _insert(Kind.TALK_DUE, reminders)


def member_talk_follow_up_reminders(*, today: datetime.date) -> int:
    """Follow-ups agreed in a talk with a member (谈心谈话), from three days before they
    are due and until they are done, to the secretary of the talk's branch."""
    talks = (
        MemberTalk.objects.filter(
            follow_up_due__isnull=False,
            follow_up_due__lte=today + datetime.timedelta(days=TALK_NOTICE),
            follow_up_done_on__isnull=True,
        )
        .select_related("member")
        .order_by("follow_up_due", "pk")
    )
    reminders = []
    for talk in talks:
        values = {"member": talk.member.name, "date": date_format(talk.follow_up_due)}
        reminders.append(
            Reminder(
                unit_id=talk.branch_id,
                role=Role.SECRETARY,
                subject=f"member_talk:{talk.pk}",
                period=talk.follow_up_due.isoformat(),
                title=(
                    gettext("Follow-up with %(member)s overdue since %(date)s")
                    if talk.follow_up_due < today
                    else gettext("Follow-up with %(member)s due on %(date)s")
                )
                % values,
                body=gettext("The follow-up agreed in the talk with %(member)s is due on %(date)s.") % values,
                url=reverse("reviews:member_talks", args=[talk.member_id]),
            )
        )
    return _insert(Kind.MEMBER_TALK_FOLLOW_UP, reminders)


def milestone_due_reminders(*, today: datetime.date) -> int:
    """Milestones of projects in progress not yet submitted for acceptance, from a week
    before they are due (and while overdue), to the secretary of the project's lead
    branch; once per milestone and due date."""
    milestones = (
        Milestone.objects.filter(
            state=Milestone.State.PENDING,
            project__state=Project.State.ACTIVE,
            due_on__lte=today + datetime.timedelta(days=MILESTONE_NOTICE),
        )
        .select_related("project")
        .order_by("due_on", "pk")
    )
    reminders = []
    for milestone in milestones:
        values = {
            "milestone": milestone.title,
            "project": milestone.project.title,
            "date": date_format(milestone.due_on),
        }
        if milestone.due_on < today:
            title = gettext("Milestone overdue since %(date)s: %(milestone)s") % values
        else:
            title = gettext("Milestone due on %(date)s: %(milestone)s") % values
        reminders.append(
            Reminder(
                unit_id=milestone.project.branch_id,
                role=Role.SECRETARY,
                subject=f"milestone:{milestone.pk}",
                period=milestone.due_on.isoformat(),
                title=title,
                body=gettext(
                    "The milestone %(milestone)s of the project %(project)s is due on %(date)s: "
                    "submit it for acceptance when it is done."
                )
                % values,
                url=reverse("projects:detail", args=[milestone.project_id]),
            )
        )
    return _insert(Kind.MILESTONE_DUE, reminders)


def reportback_drawn_reminders(*, today: datetime.date) -> int:
    """月述职: a unit drawn to report back this month or next, to its secretary; once per
    drawn report (a redraw that draws the unit again tells it again)."""
    first = first_of_month(today)
    reports = (
        Report.objects.filter(
            draw__state=Draw.State.STANDING,
            draw__month__gte=first,
            draw__month__lte=first_of_month(month_end(first) + datetime.timedelta(days=1)),
        )
        .select_related("unit", "draw", "session")
        .order_by("draw__month", "pk")
    )
    reminders = []
    for report in reports:
        values = {"unit": report.unit.name, "month": month_label(report.draw.month)}
        if report.session is not None:
            values["date"] = date_format(report.session.date)
            body = (
                gettext("%(unit)s was drawn to report back (月述职) in %(month)s, at the session on %(date)s.") % values
            )
        else:
            body = (
                gettext("%(unit)s was drawn to report back (月述职) in %(month)s; the session is not set yet.") % values
            )
        reminders.append(
            Reminder(
                unit_id=report.unit_id,
                role=Role.SECRETARY,
                subject=f"report:{report.pk}",
                period=f"{report.draw.month:%Y-%m}",
                title=gettext("%(unit)s reports back in %(month)s") % values,
                body=body,
                url=reverse("reportback:report", args=[report.pk]),
            )
        )
    return _insert(Kind.REPORTBACK_DRAWN, reminders)


GENERATORS: dict[str, Callable[..., int]] = {
    Kind.THEMED_DAY: themed_day_reminders,
    Kind.REQUIREMENTS_DUE: requirements_due_reminders,
    Kind.TERM_EXPIRING: term_expiring_reminders,
    Kind.CONVERSION_DUE: conversion_due_reminders,
    Kind.TALK_DUE: talk_due_reminders,
    Kind.MEMBER_TALK_FOLLOW_UP: member_talk_follow_up_reminders,
    Kind.MILESTONE_DUE: milestone_due_reminders,
    Kind.REPORTBACK_DRAWN: reportback_drawn_reminders,
}


def notifications_generate(*, today: datetime.date) -> dict[str, int]:
    """Every generator for ``today``, in the installation's language (the words are
    stored). Returns the rows offered per kind (those already there are left alone)."""
    with translation.override(settings.LANGUAGE_CODE):
        return {kind: generate(today=today) for kind, generate in GENERATORS.items()}
