"""Months before a committee's first tracked month (PRODUCT.md, rulings): no
requirements, no failures, and they enter no mean, rate or annual roll-up."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from branches.activities import compliance
from branches.grading import annual, services, tasks
from branches.grading.models import GradingRun
from branches.models import CommitteeMonth, OrgUnit
from branches.selectors import tracked_from_for, tracked_months_in_year
from branches.services import committee_tracking_set

from ..grading.test_annual import publish

pytestmark = pytest.mark.django_db
JULY = datetime.date(2025, 7, 1)


def track(unit: OrgUnit, month: datetime.date | None) -> OrgUnit:
    return committee_tracking_set(committee=unit, tracked_from=month)


def test_the_first_tracked_month_is_inherited_down_the_tree_and_overridden_below(tree):
    track(tree.root, JULY)
    track(tree.other, datetime.date(2025, 9, 1))
    starts = tracked_from_for(units=[tree.root, tree.plant, tree.branch_a, tree.group_a1, tree.other, tree.branch_x])
    assert starts == {
        tree.root.pk: JULY,
        tree.plant.pk: JULY,
        tree.branch_a.pk: JULY,
        tree.group_a1.pk: JULY,
        tree.other.pk: datetime.date(2025, 9, 1),
        tree.branch_x.pk: datetime.date(2025, 9, 1),
    }


def test_without_a_setting_every_month_is_tracked(tree):
    assert tracked_from_for(units=[tree.branch_a]) == {tree.branch_a.pk: None}
    assert tracked_months_in_year(tracked_from=None, year=2025) == 12


def test_only_a_committee_has_a_first_tracked_month(tree):
    with pytest.raises(ValidationError):
        track(tree.branch_a, JULY)


def test_tracking_cannot_begin_after_a_published_month(tree):
    CommitteeMonth.objects.create(committee=tree.plant, month=datetime.date(2025, 8, 1), state="closed")
    with pytest.raises(ValidationError) as error:
        track(tree.root, datetime.date(2025, 9, 1))  # the plant inherits it
    assert "2025年8月" in str(error.value) and tree.plant.name in str(error.value)
    track(tree.root, datetime.date(2025, 8, 1))  # from the published month on is fine
    track(tree.other, datetime.date(2025, 10, 1))  # another subtree is not affected


def test_months_before_tracking_require_nothing_and_fail_nothing(tree):
    track(tree.root, JULY)
    months = compliance.year_months(2025)
    cells = compliance.compliance_matrix(branches=[tree.branch_a], months=months, today=datetime.date(2026, 1, 15))
    june, july = cells[(tree.branch_a.pk, datetime.date(2025, 6, 1))], cells[(tree.branch_a.pk, JULY)]
    assert (june.state, june.required, june.missing, june.is_compliant) == ("not_tracked", 0, 0, True)
    # July: 支委会, two party groups' meetings, 主题党日 — all missing.
    assert (july.state, july.required, july.missing) == ("missing", 4, 4)
    # The year's ratio counts July to December only: 6 months × 4 + 2 quarter ends × 2
    # + December's yearly 组织生活会 and 民主评议党员 (met any time in the year).
    assert sum(cells[(tree.branch_a.pk, m)].required for m in months) == 6 * 4 + 2 * 2 + 2


def test_the_matrix_and_the_month_page_show_not_tracked(tree, users, login):
    track(tree.root, JULY)
    client = login(users.secretary)
    content = client.get(reverse("activities:compliance_matrix", args=[tree.branch_a.pk]) + "?year=2025").content
    content = content.decode()
    assert content.count('data-state="not_tracked"') == 6
    month_page = client.get(reverse("activities:compliance_month", args=[tree.branch_a.pk, 2025, 3])).content
    assert 'id="not-tracked"' in month_page.decode() and 'id="compliance-items"' in month_page.decode()
    assert compliance.branch_month_compliance(branch=tree.branch_a, month=datetime.date(2025, 3, 1)) == []


def test_grading_an_untracked_month_is_refused_and_records_nothing(tree):
    track(tree.root, JULY)
    with pytest.raises(ValidationError) as error:
        services.grading_run_request(committee=tree.plant, month=datetime.date(2025, 6, 1))
    assert "2025年6月" in str(error.value) and "2025年7月" in str(error.value)
    assert not GradingRun.objects.exists()


def test_the_schedule_and_the_command_skip_committees_not_yet_tracked(tree, time_machine, celery_eager):
    time_machine.move_to(datetime.datetime(2025, 7, 1, 3, 0, tzinfo=datetime.UTC))
    track(tree.plant, JULY)  # June is not tracked for the plant; the others track every month
    tasks.grade_previous_month()
    graded = set(GradingRun.objects.values_list("committee_id", flat=True))
    assert graded == {tree.root.pk, tree.other.pk}
    call_command("grade_month", "2025-06", stdout=(out := __import__("io").StringIO()))
    assert "not tracked in 2025-06" in out.getvalue()


def test_the_annual_roll_up_leaves_out_months_before_tracking(tree):
    publish(tree.plant, datetime.date(2025, 5, 1), [(tree.branch_a, "40.00")])
    for n in (7, 8):
        publish(tree.plant, datetime.date(2025, n, 1), [(tree.branch_a, "90.00")])
    # Set straight in the database: the service refuses to un-track a published month,
    # but the roll-up must not count one however the setting came about.
    OrgUnit.objects.filter(pk=tree.root.pk).update(tracked_from=JULY)
    [grade] = annual.annual_rollup(committee=tree.plant, year=2025, user=None)
    assert (grade.months_published, grade.mean_total) == (2, Decimal("90.00"))


def test_the_training_requirement_covers_the_tracked_months_only(tree, member_a):
    track(tree.root, JULY)
    report = compliance.branch_training_report(branch=tree.branch_a, year=2025, today=datetime.date(2026, 2, 1))
    # 40 hours a year × 6 tracked months ÷ 12.
    assert (report.tracked_months, report.requirement) == (6, Decimal("20.0"))
    assert (
        compliance.branch_training_report(branch=tree.branch_a, year=2024, today=datetime.date(2026, 2, 1)).requirement
        is None
    )
    summary = compliance.committee_training_summary(
        branches=[tree.branch_a], year=2025, today=datetime.date(2026, 2, 1)
    )
    assert summary[tree.branch_a.pk].requirement == Decimal("20.0")


def test_the_board_of_an_untracked_month_says_so(tree, users, login):
    track(tree.root, JULY)
    response = login(users.committee).get(reverse("grading:board", args=[tree.plant.pk, 2025, 6]))
    assert response.status_code == 200 and 'id="not-tracked"' in response.content.decode()


def test_only_an_administrator_sets_the_first_tracked_month(tree, users, login):
    url = reverse("branches:tracking", args=[tree.plant.pk])
    assert login(users.other_committee).get(url).status_code == 404
    assert login(users.secretary).get(url).status_code == 404
    assert login(users.committee).get(url).status_code == 403
    assert login(users.admin).get(reverse("branches:tracking", args=[tree.branch_a.pk])).status_code == 404
    response = login(users.admin).post(url, {"tracked_from": "2025-07"})
    assert response.status_code == 302
    tree.plant.refresh_from_db()
    assert tree.plant.tracked_from == JULY
    detail = login(users.admin).get(reverse("branches:unit_detail", args=[tree.branch_a.pk])).content.decode()
    assert 'id="tracked-from"' in detail and "2025年7月" in detail
    # Cleared: it inherits again (here: nothing above sets one).
    login(users.admin).post(url, {"tracked_from": ""})
    tree.plant.refresh_from_db()
    assert tree.plant.tracked_from is None


def test_the_year_end_files_mark_untracked_months_and_count_only_tracked_ones(tree, tmp_path):
    import openpyxl
    from django.utils import translation
    from pypdf import PdfReader

    from branches.reports.pdf import write_year_pdf
    from branches.reports.xlsx import write_year_xlsx

    track(tree.root, JULY)
    publish(tree.plant, JULY, [(tree.branch_a, "90.00"), (tree.branch_b, "80.00")])
    with translation.override("zh-hans"):
        write_year_xlsx(tmp_path / "year.xlsx", committee=tree.plant, year=2025, today=datetime.date(2026, 1, 10))
        write_year_pdf(tmp_path / "year.pdf", committee=tree.plant, year=2025, progress=lambda pct: None)
    workbook = openpyxl.load_workbook(tmp_path / "year.xlsx")
    sheet = next(ws for ws in workbook.worksheets if "三会一课" in ws.title)
    row = {row[0]: row for row in sheet.iter_rows(values_only=True)}[tree.branch_a.code]
    assert list(row[2:8]) == ["未纳入"] * 6  # January to June
    assert row[8] == "0/4"  # July: 支委会, two party groups' meetings, 主题党日, none logged
    # Required: July to December only — six months of four, two quarter ends of two, and
    # December's yearly 组织生活会 and 民主评议党员 (the default requirements).
    assert row[-1] == 6 * 4 + 2 * 2 + 2
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "year.pdf").pages)
    assert "0/30" in text and "未纳入" in text and "0/58" not in text
