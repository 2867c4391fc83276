"""The branch page's card of projects: ``{% load projects %}{% projects_of_branch unit %}``.

The branch page belongs to ``branches``, which imports nothing above it; the card is
rendered by this app's tag from its own selector (as grading's ``groups_of_branch``)."""

from django import template

from ..selectors import branch_projects

register = template.Library()


@register.inclusion_tag("projects/_branch_projects.html", takes_context=True)
def projects_of_branch(context, branch):
    return {"user": context["user"], "branch": branch, "projects": list(branch_projects(branch=branch)[:20])}
