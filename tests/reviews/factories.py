"""Reviews, results, support plans and talks for the tests, written through the services."""

import datetime

from branches.activities.models import Activity
from branches.choices import ActivityKind
from members.reviews import services
from members.reviews.models import Rating
from members.reviews.services import ResultRow
from tests import factories as f

YEAR = 2025
MEETING_DAY = datetime.date(YEAR, 12, 10)


def meeting(branch, *, day=MEETING_DAY, kind=ActivityKind.DEMOCRATIC_REVIEW) -> Activity:
    return Activity.objects.create(branch=branch, kind=kind, title="民主评议党员大会", date=day)


def members(branch, n: int, **kwargs) -> list:
    return [f.MemberFactory(branch=branch, **kwargs) for _ in range(n)]


def review(branch, *, year=YEAR, user=None, day=MEETING_DAY):
    return services.review_start(branch=branch, year=year, meeting=meeting(branch, day=day), user=user)


def rate(review, ratings: dict, user=None):
    """``ratings``: member → rating (or (rating, votes_for, votes_cast))."""
    rows = []
    for member, value in ratings.items():
        rating, votes_for, votes_cast = value if isinstance(value, tuple) else (value, None, None)
        rows.append(ResultRow(member_id=member.pk, rating=rating, votes_for=votes_for, votes_cast=votes_cast))
    return services.review_results_save(review=review, rows=rows, user=user)


def confirmed_review(branch, ratings: dict, *, user=None, year=YEAR):
    """A review of ``branch`` with ``ratings``; every other member of the grid 合格."""
    r = review(branch, year=year)
    from members.reviews.selectors import review_members

    full = {m: Rating.QUALIFIED for m in review_members(review=r)}
    full.update(ratings)
    rate(r, full)
    services.review_submit(review=r, user=user)
    return services.review_confirm(review=r, user=user)
