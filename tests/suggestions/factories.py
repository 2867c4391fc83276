"""Suggestions made through the service, as the pages make them."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from members.suggestions import services

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def evidence(name: str = "验收报告.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def suggestion(branch, proposers, *, title="优化高炉布料制度降低焦比", submitted_on=None, field="process", **kwargs):
    return services.suggestion_submit(
        branch=branch,
        proposers=proposers,
        title=title,
        text="调整布料矩阵，提高煤气利用率。",
        field=field,
        submitted_on=submitted_on or timezone.localdate(),
        user=None,
        **kwargs,
    )


def through(s, stage: str, *, on=None, value="12.50"):
    """Move ``s`` on to ``stage`` (accepted, published, implemented, rejected)."""
    from decimal import Decimal

    if stage == "rejected":
        return services.suggestion_reject(suggestion=s, user=None, reason="不具备实施条件", on=on).suggestion
    services.suggestion_accept(suggestion=s, user=None, on=on)
    if stage == "accepted":
        return s
    services.suggestion_publish(suggestion=s, user=None, on=on)
    if stage == "published":
        return s
    services.suggestion_implement(suggestion=s, user=None, realised_value=Decimal(value), evidence=evidence(), on=on)
    return s
