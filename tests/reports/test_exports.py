"""Report jobs and their pages: request → queued → running → ready, failures, expiry,
and access re-checked on every page and on the download."""

import datetime
import io
from unittest import mock

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from branches.models import RoleBinding
from branches.reports import services
from branches.reports.models import ReportFile
from tests.migration_runner import run_migration

YEAR = 2025
State = ReportFile.State


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def request(tree, users, fmt="xlsx", committee=None):
    return services.report_request(
        committee=committee or tree.plant, year=YEAR, fmt=fmt, user=users.committee, language="zh-hans"
    )


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


# --- the job ---------------------------------------------------------------------------


def test_a_requested_report_is_queued_then_generated_ready_with_its_file(tree, users, member_a, media):
    report = request(tree, users)
    assert report.state == State.QUEUED and not report.file
    report = services.report_generate(report_id=report.pk)
    assert report.state == State.READY
    assert report.progress == 100
    assert report.size == report.file.size > 0
    assert report.expires_at > timezone.now()
    assert report.filename.endswith(".xlsx") and tree.plant.name in report.filename
    with report.file.open("rb") as fh:
        workbook = openpyxl.load_workbook(io.BytesIO(fh.read()))
    assert workbook.sheetnames[2] == "党员"


def test_a_report_is_generated_once_however_often_the_task_is_delivered(tree, users):
    report = request(tree, users)
    assert services.report_generate(report_id=report.pk).state == State.READY
    assert services.report_generate(report_id=report.pk) is None


def test_a_failure_marks_the_report_failed_and_keeps_no_file(tree, users, media):
    report = request(tree, users)

    def crash(path, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"half a workbook")
        raise RuntimeError("disk on fire")

    with mock.patch.object(services, "year_writer", return_value=crash):
        report = services.report_generate(report_id=report.pk)
    assert report.state == State.FAILED
    assert "disk on fire" in report.error
    assert not report.file
    assert stored_files(media) == []


def test_a_failed_report_can_be_requested_again(tree, users):
    with mock.patch.object(services, "year_writer", side_effect=RuntimeError("boom")):
        failed = services.report_generate(report_id=request(tree, users).pk)
    assert failed.state == State.FAILED
    again = services.report_generate(report_id=request(tree, users).pk)
    assert again.state == State.READY


def test_progress_is_saved_while_the_report_runs(tree, users):
    report = request(tree, users)
    seen = []

    def writer(path, *, committee, year, progress):
        progress(40)
        seen.append(ReportFile.objects.get(pk=report.pk).progress)
        open(path, "wb").close()

    with mock.patch.object(services, "year_writer", return_value=writer):
        services.report_generate(report_id=report.pk)
    assert seen == [40]


def test_a_report_is_only_requested_for_a_committee_a_known_format_and_a_past_or_current_year(tree, users):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        request(tree, users, committee=tree.branch_a)
    with pytest.raises(ValidationError):
        request(tree, users, fmt="csv")
    with pytest.raises(ValidationError):
        services.report_request(
            committee=tree.plant, year=timezone.localdate().year + 1, fmt="xlsx", user=None, language="zh-hans"
        )


def test_expiry_deletes_the_file_and_marks_the_report_expired(tree, users, media):
    report = services.report_generate(report_id=request(tree, users).pk)
    fresh = services.report_generate(report_id=request(tree, users).pk)
    ReportFile.objects.filter(pk=report.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert services.reports_expire() == 1
    report.refresh_from_db()
    assert report.state == State.EXPIRED and not report.file
    assert [p.name for p in stored_files(media)] == [fresh.file.name.rsplit("/", 1)[-1]]


def test_a_job_left_running_past_a_files_lifetime_is_marked_failed(tree, users):
    report = request(tree, users)
    ReportFile.objects.filter(pk=report.pk).update(
        state=State.RUNNING, requested_at=timezone.now() - datetime.timedelta(days=30)
    )
    services.reports_expire()
    report.refresh_from_db()
    assert report.state == State.FAILED


# Transactional: the migration is re-run (its data does not survive flushing tests).
@pytest.mark.django_db(transaction=True)
def test_expiry_runs_daily_from_beat():
    migration = ("reports", "0002_expiry_schedule")
    run_migration(migration, forwards=False)
    assert not PeriodicTask.objects.filter(task="branches.reports.tasks.expire_reports").exists()
    run_migration(migration, forwards=True)
    assert PeriodicTask.objects.filter(task="branches.reports.tasks.expire_reports", enabled=True).exists()


# --- the pages -------------------------------------------------------------------------


def test_committee_staff_request_a_report_watch_it_and_download_it(
    tree, users, member_a, login, django_capture_on_commit_callbacks, celery_eager
):
    client = login(users.committee)
    page = client.get(reverse("reports:exports", args=[tree.plant.pk]))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:exports", args=[tree.plant.pk]), {"year": YEAR, "format": "xlsx"})
    report = ReportFile.objects.get()
    assert response.status_code == 302 and response.url == reverse("reports:file", args=[report.pk])
    assert report.state == State.READY  # Celery is eager in tests
    assert report.requested_by == users.committee
    page = client.get(response.url)
    assert b'id="report-download"' in page.content
    progress = client.get(reverse("reports:file_progress", args=[report.pk]))
    assert b'data-state="ready"' in progress.content and b"hx-trigger" not in progress.content
    download = client.get(reverse("reports:download", args=[report.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert member_a.employee_no in [row[0].value for row in workbook.worksheets[2].iter_rows(min_row=2)]
    listing = client.get(reverse("reports:exports", args=[tree.plant.pk]))
    assert f'data-report="{report.pk}"'.encode() in listing.content


def test_a_queued_report_page_polls_its_progress(tree, users, login):
    report = request(tree, users)
    progress = login(users.committee).get(reverse("reports:file_progress", args=[report.pk]))
    assert b'hx-trigger="every 1s"' in progress.content


def test_a_bad_year_shows_the_form_again(tree, users, login):
    response = login(users.committee).post(
        reverse("reports:exports", args=[tree.plant.pk]), {"year": 3000, "format": "xlsx"}
    )
    assert response.status_code == 200
    assert not ReportFile.objects.exists()


@pytest.mark.parametrize("who", ["other_committee", "other_secretary", "nobody", "secretary"])
def test_outsiders_get_404_on_the_committees_export_page(tree, users, login, who):
    client = login(getattr(users, who))
    url = reverse("reports:exports", args=[tree.plant.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"year": YEAR, "format": "xlsx"}).status_code == 404
    assert not ReportFile.objects.exists()


@pytest.mark.parametrize("who", ["other_committee", "other_secretary", "nobody", "secretary"])
@pytest.mark.parametrize("name", ["file", "file_progress", "download"])
def test_outsiders_get_404_on_another_committees_report(tree, users, login, who, name):
    report = services.report_generate(report_id=request(tree, users).pk)
    assert login(getattr(users, who)).get(reverse(f"reports:{name}", args=[report.pk])).status_code == 404


def test_the_download_rechecks_access_when_a_users_role_is_gone(tree, users, login):
    report = services.report_generate(report_id=request(tree, users).pk)
    client = login(users.committee)
    assert client.get(reverse("reports:download", args=[report.pk])).status_code == 200
    RoleBinding.objects.filter(user=users.committee).delete()
    fresh = login(users.committee)
    assert fresh.get(reverse("reports:download", args=[report.pk])).status_code == 404


def test_an_administrator_may_download_any_committees_report(tree, users, login):
    report = services.report_generate(report_id=request(tree, users).pk)
    assert login(users.admin).get(reverse("reports:download", args=[report.pk])).status_code == 200


def test_an_expired_file_is_a_404_with_a_message(tree, users, login):
    report = services.report_generate(report_id=request(tree, users).pk)
    ReportFile.objects.filter(pk=report.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = login(users.committee).get(reverse("reports:download", args=[report.pk]))
    assert response.status_code == 404
    assert b'id="report-gone"' in response.content


def test_an_unfinished_report_cannot_be_downloaded(tree, users, login):
    report = request(tree, users)
    assert login(users.committee).get(reverse("reports:download", args=[report.pk])).status_code == 404


def test_anonymous_users_are_sent_to_log_in(tree, users, client):
    report = request(tree, users)
    assert client.get(reverse("reports:download", args=[report.pk])).status_code == 302


# --- the command -----------------------------------------------------------------------


def test_export_year_writes_a_valid_workbook(tree, member_a, tmp_path):
    out = tmp_path / "plant.xlsx"
    call_command(
        "export_year", str(YEAR), "--committee", "PLANT", "--format", "xlsx", "--out", str(out), stdout=io.StringIO()
    )
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames[2:] == ["党员", "谈话帮扶", "党小组星级", "合理化建议", "攻关项目"]
    assert member_a.employee_no in [row[0].value for row in workbook.worksheets[2].iter_rows(min_row=2)]
    assert not (tmp_path / "plant.xlsx.part").exists()


@pytest.mark.parametrize(
    "args",
    [
        [str(YEAR), "--committee", "NOPE", "--format", "xlsx"],
        [str(YEAR), "--committee", "BRA", "--format", "xlsx"],  # a branch, not a committee
        ["1999", "--committee", "PLANT", "--format", "xlsx"],
        ["3000", "--committee", "PLANT", "--format", "xlsx"],
        [str(YEAR), "--committee", "PLANT", "--format", "csv"],
    ],
)
def test_export_year_refuses_bad_arguments(tree, tmp_path, args):
    with pytest.raises(CommandError):
        call_command("export_year", *args, "--out", str(tmp_path / "x.xlsx"), stderr=io.StringIO())
    assert not (tmp_path / "x.xlsx").exists()


def test_export_year_refuses_a_missing_directory(tree, tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "export_year",
            str(YEAR),
            "--committee",
            "PLANT",
            "--format",
            "xlsx",
            "--out",
            str(tmp_path / "no" / "x.xlsx"),
        )


# --- the form's default year -----------------------------------------------------------


def publish_month(committee, on: datetime.date) -> None:
    from branches.grading.models import GradingRun, Publication

    run = GradingRun.objects.create(committee=committee, month=on, state=GradingRun.State.SUCCEEDED)
    Publication.objects.create(committee=committee, month=on, version=1, run=run)


def form_year(client, committee) -> int:
    return client.get(reverse("reports:exports", args=[committee.pk])).context["form"].initial["year"]


def test_the_form_offers_the_latest_year_with_a_published_month(tree, users, login):
    publish_month(tree.plant, datetime.date(2022, 11, 1))
    publish_month(tree.plant, datetime.date(2023, 2, 1))
    publish_month(tree.other, datetime.date(2024, 5, 1))  # another committee's year is not the plant's
    client = login(users.admin)
    assert form_year(client, tree.plant) == 2023
    # The root's subtree holds the other committee's publications too.
    assert form_year(client, tree.root) == 2024


def test_the_form_offers_this_year_when_nothing_was_ever_published(tree, users, login):
    page = login(users.committee).get(reverse("reports:exports", args=[tree.plant.pk]))
    year = timezone.localdate().year
    assert page.context["form"].initial["year"] == year
    assert f'value="{year}"'.encode() in page.content
