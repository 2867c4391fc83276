"""``{% reportback_notice unit %}``: the unit page's notice that the unit was drawn to
report back (this month or next); ``{% reportback_history_url unit as url %}``: its
history page once it has been drawn (the unit page is the unit's, so it may open it). Rendered by this app's
tag so the ``branches`` app, below it, imports nothing of it."""

from django import template
from django.urls import reverse
from django.utils import timezone

from ..models import Report
from ..selectors import unit_notice

register = template.Library()


@register.inclusion_tag("reportback/_unit_notice.html", takes_context=True)
def reportback_notice(context, unit):
    report = unit_notice(unit=unit, today=timezone.localdate())
    return {
        "user": context.get("user"),
        "unit": unit,
        "report": report,
        "theme": report.draw.setup.theme_for(report.draw.month) if report else "",
    }


@register.simple_tag
def reportback_history_url(unit) -> str:
    """The unit's report-back history page, once it has been drawn (else "")."""
    if not Report.objects.filter(unit=unit).exists():
        return ""
    return reverse("reportback:unit_history", args=[unit.pk])
