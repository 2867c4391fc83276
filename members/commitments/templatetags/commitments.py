"""A member's commitments on the member page (app ``members``, which may not import this
one): ``{% member_commitments member %}``."""

from django import template

from members.commitments import selectors

register = template.Library()


@register.inclusion_tag("commitments/member_card.html", takes_context=True)
def member_commitments(context, member):
    """The member's commitments, the latest year first, with their checks: two queries."""
    return {"user": context.get("user"), "commitments": selectors.member_commitments(member=member)}
