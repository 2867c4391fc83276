"""Party-group stars on grading's own pages: ``{% groups_of_branch source branch %}``
lists a branch's groups on a board (the branch's score explanation shows it), and
``row|monthly_scores:months`` spreads a group's year over the months."""

from django import template

from .. import group_boards
from ..boards import Draft

register = template.Library()


@register.inclusion_tag("grading/groups_of_branch.html", takes_context=True)
def groups_of_branch(context, source, branch):
    """The groups of ``branch`` on the board ``source`` (a publication or the draft),
    with their scores, stars and ranks among all the committee's groups. Two queries."""
    rows, graded = group_boards.branch_group_rows(source, branch)
    month = source.month
    query = "draft=1" if isinstance(source, Draft) else f"version={source.version}"
    return {
        "user": context.get("user"),
        "committee": source.committee,
        "month": month,
        "branch": branch,
        "rows": rows,
        "graded": graded,
        "source_query": query,
    }


@register.filter
def monthly_scores(row, months):
    return row.monthly(months)
