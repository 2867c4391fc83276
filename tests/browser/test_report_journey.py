"""An administrator makes the year-end workbook in the browser and downloads it."""

import datetime

import pytest
from openpyxl import load_workbook

from branches.activities import services as activities

from .. import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_starts_the_year_end_export_watches_it_and_downloads_the_workbook(
    tree, users, log_in, live_server, celery_eager, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    member = f.MemberFactory(branch=tree.branch_a, name='=HYPERLINK("x")')
    activities.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=datetime.date(2025, 4, 21), user=None
    )
    page = log_in("admin")
    page.goto(f"{live_server.url}/reports/{tree.plant.pk}/")
    page.fill("input[name=year]", "2025")
    page.select_option("select[name=format]", "xlsx")
    page.click("main form:has(input[name=year]) [type=submit]")
    page.wait_for_selector("#report-download", timeout=30_000)
    assert page.locator("#report-progress").get_attribute("data-state") == "ready"
    with page.expect_download() as info:
        page.click("#report-download")
    path = tmp_path / "report.xlsx"
    info.value.save_as(path)
    workbook = load_workbook(path, read_only=True)
    assert len(workbook.sheetnames) >= 4
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]
    assert tree.branch_a.name in cells
    # A member whose name looks like a formula is written as text, unchanged.
    assert member.name in cells
