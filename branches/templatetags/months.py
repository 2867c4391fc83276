"""``{{ month|month_label }}``: a month as its readers say it — "2026年9月" in Chinese,
"September 2026" in English — from the active language's ``YEAR_MONTH_FORMAT``."""

from django import template

from branches.services import month_label as _month_label

register = template.Library()


@register.filter
def month_label(value):
    return _month_label(value) if value else ""
