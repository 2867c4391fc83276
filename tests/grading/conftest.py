"""Fixtures shared by the grading tests."""

import pytest
from django.db import connection

from branches.grading import engine


# The members' totals are read by per-member index probes for a few branches and by one
# pass over the month for many (``engine.WHOLE_MONTH_FROM``): tests that take this
# fixture run both ways.
@pytest.fixture(params=["probes", "whole month"])
def reading(request, monkeypatch):
    if request.param == "whole month":
        if connection.vendor != "postgresql":
            pytest.skip("the whole month is summed at once on PostgreSQL only")
        monkeypatch.setattr(engine, "WHOLE_MONTH_FROM", 1)
    return request.param
