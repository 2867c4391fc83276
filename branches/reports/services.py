"""Report jobs: request, generate (claimed once, written to a temporary file and only
then saved into storage), expire.

A report that fails — or whose worker dies — leaves no file behind: the workbook is
written to a temporary file that is removed whatever happens, and storage receives it
only when it is complete. Requesting again makes a new job.
"""

import datetime
import logging
import os
import tempfile
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.downloads import shorten_filename
from branches.models import OrgUnit

from .models import ReportFile

logger = logging.getLogger(__name__)

State = ReportFile.State
Format = ReportFile.Format
FIRST_YEAR = 2000


def year_writer(fmt: str) -> Callable:
    """``write_year_xlsx`` or ``write_year_pdf`` (imported lazily: the PDF renderer is heavy)."""
    if fmt == Format.PDF:
        from .pdf import write_year_pdf

        return write_year_pdf
    from .xlsx import write_year_xlsx

    return write_year_xlsx


def report_filename(*, committee: OrgUnit, year: int, fmt: str) -> str:
    """The name the user downloads: 「炼钢厂党委2026年度报表.xlsx」 (shortened to fit the
    column, extension kept; the download replaces what file names may not hold)."""
    name = _("%(committee)s %(year)s year-end report") % {"committee": committee.name, "year": year} + f".{fmt}"
    return shorten_filename(name, ReportFile._meta.get_field("filename").max_length)


def report_validate(*, committee: OrgUnit, year: int, fmt: str) -> None:
    if not committee.is_committee:
        raise ValidationError(_("Reports are made per party committee."))
    if fmt not in Format.values:
        raise ValidationError({"format": _("Choose a format.")})
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise ValidationError({"year": _("Choose a year between %(first)s and this year.") % {"first": FIRST_YEAR}})


@transaction.atomic
def report_request(
    *, committee: OrgUnit, year: int, fmt: str, user: AbstractBaseUser | None, language: str | None = None
) -> ReportFile:
    """A queued report job. The caller enqueues ``generate_report`` on commit."""
    report_validate(committee=committee, year=year, fmt=fmt)
    return ReportFile.objects.create(
        committee=committee,
        year=year,
        format=fmt,
        requested_by=user if user is not None and user.is_authenticated else None,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
        filename=report_filename(committee=committee, year=year, fmt=fmt),
    )


def report_progress(*, report_id: int, progress: int) -> None:
    """A short UPDATE of its own, committed at once, so the polling page sees it."""
    ReportFile.objects.filter(pk=report_id, state=State.RUNNING).update(progress=max(0, min(progress, 100)))


def _claim(report_id: int) -> bool:
    """queued → running; exactly one worker wins a duplicate delivery."""
    return ReportFile.objects.filter(pk=report_id, state=State.QUEUED).update(state=State.RUNNING, progress=0) == 1


def report_generate(*, report_id: int) -> ReportFile | None:
    """Generate a queued report; None if another worker has it (or it is not queued).
    Not atomic on purpose: progress must be visible while it runs."""
    if not _claim(report_id):
        return None
    report = ReportFile.objects.select_related("committee").get(pk=report_id)
    last = [0]

    def progress(pct: int) -> None:
        if pct != last[0]:
            last[0] = pct
            report_progress(report_id=report_id, progress=pct)

    handle, tmp_path = tempfile.mkstemp(prefix="report-", suffix=f".{report.format}")
    os.close(handle)
    stored = ""
    try:
        with translation.override(report.language):
            year_writer(report.format)(tmp_path, committee=report.committee, year=report.year, progress=progress)
        size = os.path.getsize(tmp_path)
        name = f"{report.committee.code or report.committee_id}-{report.year}-{report.pk}.{report.format}"
        with open(tmp_path, "rb") as fh:
            stored = report.file.storage.save(report.file.field.generate_filename(report, name), File(fh))
        now = timezone.now()
        ReportFile.objects.filter(pk=report_id).update(
            state=State.READY,
            progress=100,
            file=stored,
            size=size,
            finished_at=now,
            expires_at=now + datetime.timedelta(hours=settings.REPORT_FILE_HOURS),
            error="",
        )
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        if stored:
            report.file.storage.delete(stored)
        ReportFile.objects.filter(pk=report_id).update(
            state=State.FAILED, file="", size=0, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
    report.refresh_from_db()
    return report


def reports_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of expired reports (storage, then the row's state). Jobs left
    running or queued longer than a file lives (a worker that died) are marked failed."""
    now = now or timezone.now()
    count = 0
    for report in ReportFile.objects.filter(state=State.READY, expires_at__lte=now):
        if report.file:
            report.file.storage.delete(report.file.name)
        count += ReportFile.objects.filter(pk=report.pk, state=State.READY).update(state=State.EXPIRED, file="")
    stale = now - datetime.timedelta(hours=settings.REPORT_FILE_HOURS)
    ReportFile.objects.filter(state__in=[State.QUEUED, State.RUNNING], requested_at__lte=stale).update(
        state=State.FAILED, finished_at=now, error="interrupted"
    )
    return count


def committee_reports(*, committee: OrgUnit, limit: int = 20) -> QuerySet[ReportFile]:
    return ReportFile.objects.filter(committee=committee).select_related("requested_by")[:limit]


def report_is_available(report: ReportFile, *, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return report.state == State.READY and bool(report.file) and (report.expires_at is None or report.expires_at > now)
