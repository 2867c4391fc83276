"""The impact preview of a new rule-set version (影响预览): the ledger's version form,
posted here instead of to its own page, is checked like a save and the committee's last
graded month graded under it (``preview.version_impact``) — nothing is written. The page
is the same form, filled in as posted, with the comparison above it, so the committee
changes a number and previews again, or saves."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches.access import visible_units
from branches.models import OrgUnit
from members.ledger.rule_access import get_committee_to_customise, get_rule_set_for_user
from members.ledger.rule_forms import RowTemplates
from members.ledger.views.rules import version_form_setup

from .. import preview


def _committees(request, rule_set) -> list[OrgUnit]:
    """The committees the preview may grade: those graded by this rule set now that
    the user may see, nearest the top first."""
    seen = list(visible_units(request.user).filter(kind=OrgUnit.Kind.COMMITTEE).order_by("depth", "path"))
    return preview.preview_committees(rule_set=rule_set, committees=seen)


def _page(request, *, setup, committees: list[OrgUnit]):
    if not isinstance(setup, tuple):
        return setup  # the ledger's redirect: nothing to customise
    form, service_kwargs, context = setup
    chosen = next((c for c in committees if str(c.pk) == request.POST.get("preview_committee")), None)
    committee = chosen or (committees[0] if committees else None)
    impact = None
    if committee is None:
        form.add_error(None, ValidationError(_no_committee()))
    elif form.is_valid():
        try:
            impact = preview.version_impact(
                graded=committee, **form.service_kwargs(), **service_kwargs, user=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
    return render(
        request,
        "grading/version_preview.html",
        context
        | {
            "form": form,
            "templates": RowTemplates(),
            "impact": impact,
            "preview_committees": committees,
            "preview_committee": committee,
        },
    )


def _no_committee() -> str:
    return _("No committee you can see is graded by these rules yet: there is no month to preview.")


@login_required
@require_POST
def version_preview(request, pk: int):
    rule_set = get_rule_set_for_user(request.user, pk, write=True)
    return _page(
        request, setup=version_form_setup(request, rule_set=rule_set), committees=_committees(request, rule_set)
    )


@login_required
@require_POST
def customise_preview(request, committee_pk: int):
    committee = get_committee_to_customise(request.user, committee_pk)
    setup = version_form_setup(request, committee=committee)
    return _page(request, setup=setup, committees=[committee])


urlpatterns = [
    path("rules/<id:pk>/preview/", version_preview, name="version_preview"),
    path("rules/customise/<id:committee_pk>/preview/", customise_preview, name="customise_preview"),
]
