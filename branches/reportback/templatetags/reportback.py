"""``{% reportback_notice unit %}``: the unit page's notice that the unit was drawn to
report back (this month or next), and a link to its history. Rendered by this app's
tag so the ``branches`` app, below it, imports nothing of it."""

from django import template
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
        "show_history": Report.objects.filter(unit=unit).exists(),
    }
