"""The login in two steps for users with a confirmed TOTP device, and the page that
turns two-factor login on. Thin: services → template."""

import time

import django_otp
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from . import services
from .forms import CodeForm

# The user who gave the right password and still owes a code: in the (anonymous)
# session, never logged in until the code is right.
PENDING = "partybuild_2fa_pending"
PENDING_SECONDS = 300
PENDING_ATTEMPTS = 5


class LoginView(auth_views.LoginView):
    """Django's login; a user with a confirmed TOTP device is asked for a code next."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if services.confirmed_device(user.pk) is None:
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "next": self.get_success_url(),
            "attempts": 0,
        }
        return redirect("login_code")


@never_cache
def login_code(request):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return redirect("login")
    device = services.confirmed_device(pending["user"])
    if device is None:  # turned off by an administrator meanwhile: log in with the password again
        request.session.pop(PENDING, None)
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            del request.session[PENDING]
            user = get_user_model().objects.get(pk=pending["user"])
            auth_login(request, user, backend=pending["backend"])
            django_otp.login(request, device)
            return redirect(pending["next"])
        pending["attempts"] += 1
        if pending["attempts"] >= PENDING_ATTEMPTS:
            request.session.pop(PENDING, None)
            messages.error(request, _("Too many wrong codes. Log in again."))
            return redirect("login")
        request.session[PENDING] = pending
        form.add_error("token", _("That code is not right. Enter the code your app shows now."))
    return render(request, "registration/login_code.html", {"form": form})


@login_required
@never_cache
def two_factor(request):
    """Turn two-factor login on: a new secret (QR code and text), confirmed by a code."""
    if not services.may_use_two_factor(request.user):
        raise PermissionDenied
    device = services.confirmed_device(request.user.pk)
    pending = None if device else services.pending_device(request.user)
    form = CodeForm(request.POST or None) if pending else None
    if request.method == "POST" and device is None:
        if "start" in request.POST:
            services.totp_device_start(user=request.user)
            return redirect("two_factor")
        if pending and form.is_valid():
            if services.totp_device_confirm(device=pending, token=form.cleaned_data["token"]):
                django_otp.login(request, pending)
                messages.success(request, _("Two-factor login is on. From now on you log in with a code too."))
                return redirect("two_factor")
            form.add_error("token", _("That code is not right. Enter the code your app shows now."))
    return render(
        request,
        "accounts/two_factor.html",
        {
            "device": device,
            "pending": pending,
            "form": form,
            "qr": services.qr_svg(pending) if pending else "",
            "secret": services.secret_of(pending) if pending else "",
        },
    )


def admin_login(request):
    """The admin's own login would skip the two-factor code: there is one way in."""
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect("admin:index")
        raise PermissionDenied
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("login") + (f"?{query}" if query else ""))
