"""Rule-set pages: the list, a rule set with everything one version holds, what a
version changed, a new version, and a committee customising the rules it inherits. Thin: access (``rule_access``) →
reads and writes (``rule_services``) → template."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)
from branches.access import user_scope
from branches.links import url_if_allowed
from branches.services import month_label

from .. import rule_diff, rule_services
from ..models import RuleSet, RuleSetVersion
from ..rule_access import (
    can_create_rule_version,
    customisable_committees,
    get_committee_to_customise,
    get_rule_set_for_user,
    visible_rule_sets,
)
from ..rule_forms import RowTemplates, RuleVersionForm


@login_required
def ruleset_list(request):
    if user_scope(request.user).is_empty:
        raise Http404
    today = timezone.localdate()
    rule_sets = rule_services.rule_sets_overview(rule_sets=visible_rule_sets(request.user), month=today)
    return render(
        request,
        "ledger/rules_list.html",
        {
            "rule_sets": rule_sets,
            "customisable": customisable_committees(request.user).order_by("path"),
            "today": today,
        },
    )


def _selected_version(request, versions: list[RuleSetVersion]) -> tuple[RuleSetVersion | None, RuleSetVersion | None]:
    """(the version in force today, the one the page shows: ``?version=<number>`` or the
    one in force); 404 for a number the rule set does not have."""
    current = rule_services.version_in_force(versions, timezone.localdate())
    selected = current or (versions[-1] if versions else None)
    if request.GET.get("version"):
        try:
            number = int(request.GET["version"])
        except ValueError as exc:
            raise Http404 from exc
        selected = next((v for v in versions if v.number == number), None)
        if selected is None:
            raise Http404
    return current, selected


@login_required
def ruleset_detail(request, pk: int):
    rule_set = get_rule_set_for_user(request.user, pk)
    versions = rule_services.rule_set_versions(rule_set=rule_set)
    current, selected = _selected_version(request, versions)
    items = rule_services.version_items(version=selected) if selected else []
    return render(
        request,
        "ledger/rules_detail.html",
        {
            "rule_set": rule_set,
            "versions": versions,
            "current": current,
            "selected": selected,
            "previous": rule_diff.previous_version(versions, selected) if selected else None,
            "rules": rule_services.version_rules(version=selected) if selected else [],
            "requirements": rule_services.version_requirements(version=selected) if selected else [],
            "dimensions": rule_services.version_dimensions(version=selected, items=items) if selected else [],
            "can_create": can_create_rule_version(request.user, rule_set),
            "month": rule_services.first_of_month(timezone.localdate()),
        },
    )


@login_required
def ruleset_changes(request, pk: int):
    """What a version changed from the one before it."""
    rule_set = get_rule_set_for_user(request.user, pk)
    versions = rule_services.rule_set_versions(rule_set=rule_set)
    _current, selected = _selected_version(request, versions)
    if selected is None:
        raise Http404
    previous = rule_diff.previous_version(versions, selected)
    return render(
        request,
        "ledger/rules_changes.html",
        {
            "rule_set": rule_set,
            "version": selected,
            "previous": previous,
            "changes": rule_diff.version_changes(version=selected, previous=previous),
            "title": _("Changes in version %(number)s") % {"number": selected.number},
        },
    )


def _version_form(request, *, base: RuleSetVersion, effective_month) -> RuleVersionForm:
    return RuleVersionForm(
        request.POST or None,
        base=base,
        rules=rule_services.version_rules(version=base),
        requirements=rule_services.version_requirements(version=base),
        items=rule_services.version_items(version=base),
        effective_month=effective_month,
    )


def _version_form_page(request, *, form: RuleVersionForm, service_kwargs: dict, context: dict):
    if request.method == "POST" and form.is_valid():
        try:
            version = rule_services.rule_set_version_create(
                **form.service_kwargs(), **service_kwargs, user=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("Version %(number)s of %(rules)s takes effect in %(month)s.")
                % {
                    "number": version.number,
                    "rules": version.rule_set.name,
                    "month": month_label(version.effective_month),
                },
            )
            return redirect(f"{version.rule_set.get_absolute_url()}?version={version.number}")
    return render(request, "ledger/rules_version_form.html", context | {"form": form, "templates": RowTemplates()})


def version_form_setup(request, *, rule_set: RuleSet | None = None, committee=None):
    """The new-version form of ``rule_set`` (or, with ``committee``, of a customisation),
    bound to the request's POST: ``(form, service kwargs, page context)``, or a redirect
    response where there is nothing to fill in. Shared with grading's impact preview,
    which shows the same form with the preview above it."""
    today = timezone.localdate()
    if rule_set is not None:
        versions = rule_services.rule_set_versions(rule_set=rule_set)
        if not versions:
            raise Http404
        base = versions[0]
        month = max(rule_services.next_month(today), rule_services.next_month(base.effective_month))
        context = {
            "rule_set": rule_set,
            "base": base,
            "back": rule_set.get_absolute_url(),
            "title": _("New version of %(rules)s") % {"rules": rule_set.name},
            "save_url": reverse("ledger:ruleset_version_create", args=[rule_set.pk]),
            # The impact preview is grading's page (it runs the engine); asked by URL name.
            "preview_url": url_if_allowed(request.user, "grading:version_preview", rule_set.pk),
        }
        service_kwargs = {"rule_set": rule_set, "committee": None}
    else:
        own = RuleSet.objects.filter(committee=committee).first()
        if own is not None:
            messages.info(request, _("%(committee)s already has rules of its own.") % {"committee": committee.name})
            return redirect("ledger:ruleset_version_create", pk=own.pk)
        month = rule_services.next_month(today)
        try:
            base = rule_services.customise_base_version(committee=committee, month=month)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("ledger:ruleset_list")
        context = {
            "rule_set": base.rule_set,
            "base": base,
            "committee": committee,
            "back": reverse("ledger:ruleset_list"),
            "title": _("Rules of its own for %(committee)s") % {"committee": committee.name},
            "save_url": reverse("ledger:ruleset_customise", args=[committee.pk]),
            "preview_url": url_if_allowed(request.user, "grading:customise_preview", committee.pk),
        }
        service_kwargs = {"rule_set": None, "committee": committee}
    return _version_form(request, base=base, effective_month=month), service_kwargs, context


@login_required
def ruleset_version_create(request, pk: int):
    rule_set = get_rule_set_for_user(request.user, pk, write=True)
    form, service_kwargs, context = version_form_setup(request, rule_set=rule_set)
    return _version_form_page(request, form=form, service_kwargs=service_kwargs, context=context)


@login_required
def ruleset_customise(request, committee_pk: int):
    committee = get_committee_to_customise(request.user, committee_pk)
    setup = version_form_setup(request, committee=committee)
    if not isinstance(setup, tuple):
        return setup
    form, service_kwargs, context = setup
    return _version_form_page(request, form=form, service_kwargs=service_kwargs, context=context)


urlpatterns = [
    path("rules/", ruleset_list, name="ruleset_list"),
    path("rules/<id:pk>/", ruleset_detail, name="ruleset_detail"),
    path("rules/<id:pk>/changes/", ruleset_changes, name="ruleset_changes"),
    path("rules/<id:pk>/new-version/", ruleset_version_create, name="ruleset_version_create"),
    path("rules/customise/<id:committee_pk>/", ruleset_customise, name="ruleset_customise"),
]
