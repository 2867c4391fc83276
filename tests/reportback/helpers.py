"""Helpers for the report-back tests: a committee's pool set up through the service."""

import datetime

from branches.reportback import services
from branches.reportback.models import DEFAULT_THEMES, Setup

from .. import factories as f

JAN = datetime.date(2026, 1, 1)


def make_units(committee, n: int, prefix: str):
    return [
        f.branch(committee, name=f"{prefix}{i + 1}党支部", code=f"{prefix}{committee.pk}-{i + 1}") for i in range(n)
    ]


def set_up(
    committee, groups: list[tuple[str, int, list]], *, months: int = 6, start=JAN, scoring="trimmed", today=None
):
    """``groups``: (category name, quota, units)."""
    return services.setup_save(
        committee=committee,
        cycle_start=start,
        cycle_months=months,
        draw_day=20,
        scoring=scoring,
        themes=list(DEFAULT_THEMES.values()),
        categories=[
            services.CategorySpec(slot=i + 1, name=name, quota=quota, unit_ids=[u.pk for u in units])
            for i, (name, quota, units) in enumerate(groups)
        ],
        user=None,
        today=today or start,
    )


def month(n: int, start=JAN) -> datetime.date:
    from branches.reportback.models import add_months

    return add_months(start, n)


__all__ = ["JAN", "Setup", "make_units", "month", "set_up"]
