"""The review and talks on pages of lower apps: ``{% member_reviews member %}`` on the
member page and ``{% branch_follow_ups unit %}`` on the unit page. The members and
branches apps may not import this one, so their templates ask through these tags."""

from django import template
from django.utils import timezone

from branches.access import user_scope
from members.reviews import selectors
from members.reviews.access import TALK_ROLES, can_see_talks_of

register = template.Library()


@register.inclusion_tag("reviews/_member_reviews.html", takes_context=True)
def member_reviews(context, member):
    """The member's review results (confirmed or still in progress) with their support
    plans, and a link to their talks for those who may read them. Two queries."""
    user = context.get("user")
    talks_visible = can_see_talks_of(user, member)
    open_follow_ups = (
        selectors.member_talks(member=member)
        .filter(follow_up_due__isnull=False, follow_up_done_on__isnull=True)
        .count()
        if talks_visible
        else 0
    )
    return {
        "user": user,
        "member": member,
        "results": list(selectors.member_results(member=member)),
        "talks_visible": talks_visible,
        "open_follow_ups": open_follow_ups,
    }


@register.inclusion_tag("reviews/_branch_follow_ups.html", takes_context=True)
def branch_follow_ups(context, unit):
    """On a branch: its overdue talk follow-ups (for the secretary and the committee only)
    and open support plans, and its review of the year. On a committee: a link to its
    branches' reviews."""
    user = context.get("user")
    today = timezone.localdate()
    data = {"user": user, "unit": unit, "year": today.year, "today": today}
    if unit.is_branch:
        scope = user_scope(user)
        talks_visible = scope.is_admin or scope.contains(unit, *TALK_ROLES)
        talks = list(selectors.overdue_talk_follow_ups(branch=unit, today=today)) if talks_visible else []
        for talk in talks:
            # What the talks page asks (the member's current branch in the user's scope
            # for talk roles), without a query per row; the plans are the branch's own,
            # in scope wherever this page is.
            talk.member_visible = scope.is_admin or scope.contains(talk.member.branch, *TALK_ROLES)
        data |= {"overdue_talks": talks, "plans": list(selectors.open_support_plans(branch=unit))}
    return data
