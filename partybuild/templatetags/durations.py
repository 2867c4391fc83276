import datetime

from django import template
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def duration(value: datetime.timedelta | None) -> str:
    """A time span in words in the active language: "15 分钟", "1 小时", "1 小时，30 分钟".

    Django's timesince already says this in every language it ships; it measures
    between two instants, so the span is laid from a fixed one.
    """
    if not value:
        return ""
    start = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    return timesince(start, start + value)
