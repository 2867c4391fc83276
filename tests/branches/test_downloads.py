"""Download names: the full Chinese name, "/" and other characters no file system takes
replaced, sent as RFC 5987 ``filename*`` with an ASCII ``filename`` fallback; a long name
keeps its extension. Every download goes through ``branches.downloads``."""

import datetime
import re
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from branches.activities import services as activity_services
from branches.activities.models import Activity
from branches.choices import ActivityKind
from branches.downloads import (
    MAX_DOWNLOAD_BYTES,
    content_disposition,
    download_filename,
    file_response,
    shorten_filename,
)
from branches.grading.models import GradingRun, Publication, PublishedBranchScore
from branches.reports import services as report_services

PDF = b"%PDF-1.4\n%%EOF\n"
NAME_PARAM = re.compile(r"filename\*=UTF-8''(\S+)")


def sent_name(disposition: str) -> str:
    """The name a browser saves: the decoded ``filename*``."""
    return unquote(NAME_PARAM.search(disposition).group(1))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- the names -------------------------------------------------------------------------


def test_a_slash_and_the_other_forbidden_characters_become_underscores_and_the_chinese_stays():
    assert download_filename("一/二分厂党委 2025年度报表.xlsx") == "一_二分厂党委 2025年度报表.xlsx"
    assert download_filename('a\\b:c*d?e"f<g>h|i\x00j.pdf') == "a_b_c_d_e_f_g_h_i_j.pdf"
    assert download_filename("../../etc/passwd") == "_.._etc_passwd"
    assert download_filename("/.pdf") == "download.pdf"


def test_the_header_carries_the_full_name_as_rfc_5987_and_an_ascii_fallback():
    header = content_disposition("炼钢厂/连铸党委2025年度报表.xlsx")
    assert header.startswith('attachment; filename="2025.xlsx"; ')
    assert "filename*=UTF-8''" in header
    assert sent_name(header) == "炼钢厂_连铸党委2025年度报表.xlsx"
    assert header.isascii()
    assert content_disposition("设备.pdf", as_attachment=False).startswith('inline; filename="download.pdf"')


def test_a_300_character_name_is_shortened_and_keeps_its_pdf_extension():
    name = "关于" * 147 + "xx.pdf"  # 300 characters
    assert len(name) == 300
    shortened = shorten_filename(name, 200)
    assert len(shortened) == 200 and shortened.endswith(".pdf") and shortened.startswith("关于关于")
    download = download_filename(name)
    assert download.endswith(".pdf") and len(download.encode()) <= MAX_DOWNLOAD_BYTES
    assert sent_name(content_disposition(name)).endswith(".pdf")


def test_a_short_name_is_left_alone_and_a_long_dotted_tail_is_not_taken_for_an_extension():
    assert shorten_filename("通知.pdf", 200) == "通知.pdf"
    assert shorten_filename("a" * 20 + ".not-an-extension-at-all", 10) == "a" * 10


def test_a_response_sends_the_header_and_a_content_type():
    response = file_response(PDF, filename="一/二.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert sent_name(response["Content-Disposition"]) == "一_二.pdf"
    assert response.content == PDF


# --- every download goes through it ------------------------------------------------------


@pytest.fixture
def activity(tree):
    return Activity.objects.create(
        branch=tree.branch_a,
        kind=ActivityKind.COMMITTEE_MEETING,
        title="支委会",
        date=timezone.localdate().replace(day=1),
        status=Activity.Status.HELD,
    )


def test_a_long_attachment_name_keeps_its_extension_when_stored_and_served(tree, users, activity, login):
    name = "二〇二五年第三季度党支部组织生活会会议记录及整改清单" * 12 + ".pdf"
    assert len(name) > 300
    attachment = activity_services.activity_attachment_add(
        activity=activity, upload=SimpleUploadedFile(name, PDF, content_type="application/pdf"), user=None
    )
    assert attachment.name.endswith(".pdf") and len(attachment.name) <= 200
    response = login(users.secretary).get(reverse("activities:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; ")
    assert sent_name(disposition) == download_filename(attachment.name)
    assert sent_name(disposition).endswith(".pdf") and sent_name(disposition).startswith("二〇二五年")


def test_the_board_pdf_of_a_committee_with_a_slash_in_its_name_keeps_the_whole_name(tree, users, login):
    tree.plant.name = "炼钢/连铸厂党委"
    tree.plant.save(update_fields=["name"])
    month = datetime.date(2024, 1, 1)
    run = GradingRun.objects.create(committee=tree.plant, month=month, state=GradingRun.State.SUCCEEDED)
    publication = Publication.objects.create(committee=tree.plant, month=month, version=1, run=run)
    PublishedBranchScore.objects.create(
        publication=publication, branch=tree.branch_a, basics=90, membership=90, total=90, rank=1
    )
    response = login(users.committee).get(reverse("reports:board_pdf", args=[tree.plant.pk, 2024, 1]))
    assert response.status_code == 200
    assert sent_name(response["Content-Disposition"]) == "炼钢_连铸厂党委-2024-01-排名榜.pdf"


def test_a_year_end_report_downloads_under_its_full_chinese_name(tree, users, login):
    tree.plant.name = "炼钢/连铸厂党委"
    tree.plant.save(update_fields=["name"])
    report = report_services.report_request(
        committee=tree.plant, year=2024, fmt="xlsx", user=users.committee, language="zh-hans"
    )
    report_services.report_generate(report_id=report.pk)
    response = login(users.committee).get(reverse("reports:download", args=[report.pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="2024.xlsx"; ')
    assert sent_name(disposition) == "炼钢_连铸厂党委2024年度报表.xlsx"


def test_the_roster_template_downloads_under_its_chinese_name(tree, users, login):
    response = login(users.secretary).get(reverse("members:import_template"))
    assert response.status_code == 200
    assert sent_name(response["Content-Disposition"]) == "党员名册导入模板.xlsx"
