"""View helpers shared by every app's pages (this is the lowest app, so all may import it)."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .downloads import stored_file_response  # noqa: F401  (the one helper that serves stored files)
from .forms import call_service


def service_form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    service: Callable[..., Any],
    success: str | Callable[[Any], str],
    template: str,
    context: dict,
    redirect_to: Any = None,
    **service_kwargs: Any,
) -> HttpResponse:
    """The common shape of a write page: GET shows the form; a valid POST calls
    ``service(**form.cleaned_data, **service_kwargs)``. On success it flashes ``success``
    (a string, or a function of the result) and redirects to ``redirect_to`` or the
    result itself; a ``ValidationError`` from the service shows the form again with it."""
    if request.method == "POST" and form.is_valid():
        result = call_service(form, service, **form.cleaned_data, **service_kwargs)
        if result is not None:
            messages.success(request, success(result) if callable(success) else success)
            return redirect(redirect_to or result)
    return render(request, template, context | {"form": form})
