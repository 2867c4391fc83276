"""``publishing.draft_statuses`` reads several committee months' draft status in three
queries and answers as ``draft_status`` does for each (issue 14: the committee staff's
home page shows three months of each committee)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.grading import publishing
from branches.grading.models import GradingRun
from branches.services import month_close

from .test_boards import APRIL, MARCH, MAY, draft, publish

pytestmark = pytest.mark.django_db


def test_the_batch_answers_as_draft_status_does_for_each_month(tree):
    draft(tree.plant, MARCH, {tree.branch_a: "80", tree.branch_b: "90"})
    publish(tree.plant, MARCH)
    month_close(committee=tree.plant, month=MARCH)
    draft(tree.plant, APRIL, {tree.branch_a: "70", tree.branch_b: "60"})
    queued = GradingRun.objects.create(committee=tree.plant, month=APRIL, state=GradingRun.State.QUEUED)
    months = [(tree.plant, m) for m in (MARCH, APRIL, MAY)] + [(tree.other, APRIL)]
    with CaptureQueriesContext(connection) as queries:
        batch = publishing.draft_statuses(months=months)
    assert len(queries) == 3
    for committee, month in months:
        one = publishing.draft_status(committee, month)
        status, last_run = batch[(committee.pk, month)]
        assert (status.run, status.pending, status.published, status.closed) == (
            one.run,
            one.pending,
            one.published,
            one.closed,
        ), (committee, month)
        assert last_run == GradingRun.objects.filter(committee=committee, month=month).first()
        assert status.stale == one.stale and status.missing_count == one.missing_count
    assert batch[(tree.plant.pk, APRIL)][0].pending == queued
    assert batch[(tree.plant.pk, MARCH)][0].closed and batch[(tree.plant.pk, MARCH)][0].published is not None


def test_a_closed_months_status_reads_no_watermark_until_asked(tree):
    draft(tree.plant, MARCH, {tree.branch_a: "80", tree.branch_b: "90"})
    publish(tree.plant, MARCH)
    month_close(committee=tree.plant, month=MARCH)
    status = publishing.draft_status(tree.plant, MARCH)
    with CaptureQueriesContext(connection) as queries:
        assert status.closed and not status.ready  # closed: the problems stop there
    assert len(queries) == 0
