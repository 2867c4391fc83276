from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import branches.converters  # noqa: F401  (registers <id:>)

from . import selectors, services
from .access import get_notification_for_user
from .forms import PreferencesForm

app_name = "notifications"


@login_required
def notification_list(request):
    page = Paginator(selectors.user_notifications(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "notifications": page.object_list})


def _back(request):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_notification_for_user(request.user, pk, write=True)
    services.notification_mark_read(notification=notification)
    if request.POST.get("open") and notification.url:
        return redirect(notification.url)
    return _back(request)


@login_required
@require_POST
def notifications_read_all(request):
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)s reminders marked as read.") % {"count": count})
    return _back(request)


@login_required
def preferences(request):
    form = PreferencesForm(
        request.POST or None,
        initial={"emailed": [kind for kind, _label, on in selectors.kind_preferences(user=request.user) if on]},
    )
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_save(user=request.user, emailed_kinds=set(form.cleaned_data["emailed"]))
        messages.success(request, _("Your e-mail choices are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})


urlpatterns = [
    path("", notification_list, name="list"),
    path("<id:pk>/read/", notification_read, name="read"),
    path("read-all/", notifications_read_all, name="read_all"),
    path("preferences/", preferences, name="preferences"),
]
