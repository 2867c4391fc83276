"""What the project pages share: turning a service's refusal or its postings into messages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from members.ledger.services import SourcePosting


def report_postings(request, postings: list[SourcePosting]) -> None:
    """Say who received points and who was passed over, and why."""
    for posting in postings:
        if posting.entries:
            messages.info(
                request,
                _("Points posted to %(names)s.") % {"names": "、".join(e.member.name for e in posting.entries)},
            )
        for member, why in posting.skipped:
            messages.warning(
                request, _("%(member)s received no points: %(why)s.") % {"member": member.name, "why": why}
            )


def report_refusal(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def next_or(request, default: str) -> str:
    """Back to the page the form was on (a grid, the queue), if it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default
