"""The cycle through the services and the database: for random pools, categories and
quotas (feasible ones, as the setup allows), every unit is drawn exactly once per
cycle, each month draws its quota (the last month what remains), and every draw
replays to what it recorded."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branches.reportback import drawing, services
from branches.reportback.models import Report

from .. import factories as f
from .helpers import month, set_up

pytestmark = pytest.mark.django_db

_committees = itertools.count()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.tuples(st.integers(1, 14), st.integers(1, 6)), min_size=1, max_size=3),
    months=st.integers(2, 6),
)
def test_every_unit_reports_once_per_cycle_through_the_services(db, sizes, months):
    n = next(_committees)
    committee = f.committee(code=f"PROP{n}")
    groups = []
    for i, (units, quota) in enumerate(sizes):
        members = [f.branch(committee, code=f"P{n}-{i}-{j}") for j in range(units)]
        groups.append((f"类别{i + 1}", max(quota, -(-units // months)), members))
    setup = set_up(committee, groups, months=months)
    quotas = {c.name: c.quota for c in setup.categories.all()}
    for cycle in range(2):
        drawn: list[int] = []
        for position in range(months):
            draw = services.draw_month(setup=setup, month=month(cycle * months + position), user=None)
            replayed = drawing.replay(
                candidates=draw.candidates, quotas=draw.quotas, seed=draw.seed, algorithm=draw.algorithm
            )
            for category in setup.categories.all():
                ids = list(
                    Report.objects.filter(draw=draw, category=category)
                    .order_by("position")
                    .values_list("unit_id", flat=True)
                )
                assert ids == replayed[category.pk]
                left = len(draw.candidates[str(category.pk)])
                assert len(ids) == (left if position == months - 1 else min(quotas[category.name], left))
                assert len(ids) <= quotas[category.name]
            drawn += list(draw.reports.values_list("unit_id", flat=True))
        assert sorted(drawn) == sorted(u.pk for _name, _quota, units in groups for u in units)
