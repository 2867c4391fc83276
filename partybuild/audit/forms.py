import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from branches.forms import DateInput

from .models import TRACKED

BIGINT_MAX = 2**63 - 1


def kind_choices() -> list[tuple[str, str]]:
    return [("", _("All"))] + [(key, t.verbose_name) for key, t in TRACKED.items()]


# The range the rest of the system holds months to (branches/converters.py).
FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Object type"), required=False, choices=kind_choices)
    username = forms.CharField(label=_("User name"), required=False, max_length=150)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("To"), required=False, widget=DateInput())
    object_id = forms.IntegerField(label=_("Object id"), required=False, min_value=1, max_value=BIGINT_MAX)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        for name, day in (("since", since), ("until", until)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Enter a date between 2000 and 2100."))
                return data
        if since and until and since > until:
            self.add_error("until", _("The end of the range is before its start."))
        return data
