"""Two committee staff confirm the same review at the same moment (PostgreSQL, two
connections): it is confirmed once, with one transition row, and the second click is
told the review is already confirmed."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from members.reviews import services
from members.reviews.models import DemocraticReview, Rating, ReviewTransition

from ..conftest import requires_postgres
from . import factories as rf

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_review_confirmed_twice_at_once_is_confirmed_once(tree, users):
    requires_postgres()
    members = rf.members(tree.branch_a, 3)
    review = rf.review(tree.branch_a)
    rf.rate(review, {m: Rating.QUALIFIED for m in members})
    services.review_submit(review=review, user=users.secretary)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def confirm():
        try:
            barrier.wait(timeout=5)
            results.append(services.review_confirm(review=DemocraticReview(pk=review.pk), user=users.committee))
        except ValidationError as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(type(r).__name__ for r in results) == ["DemocraticReview", "ValidationError"]
    assert ReviewTransition.objects.filter(review_id=review.pk, move="confirm").count() == 1
    assert DemocraticReview.objects.get(pk=review.pk).is_confirmed
