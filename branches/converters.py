"""Path converters used by every URL of the project, and the range of months the system
holds.

``<id:pk>`` is a primary key that fits PostgreSQL's bigint, ``<year:year>`` a four-digit
year from FIRST_YEAR to LAST_YEAR, ``<month:month>`` 1 to 12. A value outside is no match:
the URL is a 404 before any view runs, so no view meets 10^20 (an OverflowError in
``datetime.date``, a DataError in PostgreSQL) or a month whose neighbours do not exist
(9999-12 has no next month). Forms that take a month or a year check the same range
(``month_in_range``, ``year_in_range``).

Importing this module registers the converters; every module that declares URL patterns
imports it.
"""

import datetime

from django.urls import register_converter

# The default rule set takes effect in 2000-01 ("since the system started"); nothing the
# system records or grades lies before it. The end leaves room for month arithmetic
# (next month, quarter, a year of months) without leaving ``datetime.date``'s range.
FIRST_YEAR = 2000
LAST_YEAR = 2100
FIRST_MONTH = datetime.date(FIRST_YEAR, 1, 1)
LAST_MONTH = datetime.date(LAST_YEAR, 12, 1)
# Every primary key is a BigAutoField (PostgreSQL bigint).
MAX_ID = 2**63 - 1


def year_in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def month_in_range(month: datetime.date) -> bool:
    return FIRST_MONTH <= month.replace(day=1) <= LAST_MONTH


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)


class YearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        year = int(value)
        if not year_in_range(year):
            raise ValueError(value)
        return year

    def to_url(self, value) -> str:
        return str(value)


class MonthConverter:
    regex = "[0-9]{1,2}"

    def to_python(self, value: str) -> int:
        month = int(value)
        if not 1 <= month <= 12:
            raise ValueError(value)
        return month

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")
register_converter(YearConverter, "year")
register_converter(MonthConverter, "month")
