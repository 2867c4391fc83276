"""How rule-set versions read on pages: by their names, never their codes, and the
installation's default version as what it is ("系统默认规则", in force "系统启用起")
rather than its stored note and placeholder month (2000-01)."""

from django import template
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _

from branches.services import month_label

register = template.Library()


def is_installation_default(version) -> bool:
    """Version 1 of the default rule set, installed with the system (a data migration)
    rather than made by someone: its effective month only means "from the start"."""
    return version.number == 1 and version.rule_set.committee_id is None


@register.filter
def effective_from(version) -> str:
    if is_installation_default(version):
        return _("Since the system started")
    return month_label(version.effective_month)


@register.filter
def version_note(version) -> str:
    if is_installation_default(version):
        return _("System default rules")
    return version.note


@register.filter
def version_label(version) -> str:
    return _("%(rules)s, version %(number)s (%(month)s)") % {
        "rules": version.rule_set.name,
        "number": version.number,
        "month": effective_from(version),
    }


@register.filter
def month_name(number) -> str:
    """A month of the year by its number (a yearly requirement's due month): 十二月."""
    return str(MONTHS.get(number, "—"))
