"""Under the Content-Security-Policy the pages still work in Chromium: ECharts draws the
boards' charts and tooltips, htmx saves a score, the moved styles apply, the language
switcher and the points form's helpers run from static files, and the Django admin
opens — and the console shows no violation (the ``page`` fixture collects them)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from branches.grading.models import BranchScore, GradingRun, Publication, PublishedBranchScore
from members.models import Member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "partybuild-demo"


def test_charts_htmx_styles_and_the_admin_work_under_the_policy(page, log_in, live_server, csp_violations):
    call_command("seed_demo", "--branches", "3", "--members", "30", "--months", "2", stdout=StringIO())
    publication = Publication.objects.order_by("-month", "-version").first()
    committee, month = publication.committee, publication.month
    branch = PublishedBranchScore.objects.filter(publication=publication).order_by("rank").first().branch
    draft = BranchScore.objects.filter(committee=committee).exclude(month=month).order_by("-month").first()
    base = live_server.url

    log_in("committee", DEMO_PASSWORD)

    # The board: the distribution chart is drawn, and its tooltip (on the canvas) shows.
    page.goto(f"{base}{reverse('grading:board', args=[committee.pk, month.year, month.month])}")
    chart = page.locator("[data-chart=distribution]")
    chart.locator("canvas").first.wait_for()
    assert chart.get_attribute("data-chart-drawn") == "1"
    assert chart.bounding_box()["height"] == 260  # the height from partybuild.css
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)

    # A branch's explanation: the history chart.
    page.goto(f"{base}{reverse('grading:explain_branch', args=[committee.pk, month.year, month.month, branch.pk])}")
    page.locator("[data-chart=history] canvas").first.wait_for()

    # The print sheet (its own stylesheet, landscape) and the activity room's screen.
    page.goto(f"{base}{reverse('grading:board', args=[committee.pk, month.year, month.month])}?print=1")
    assert page.locator("body.print-landscape [data-print]").is_visible()
    page.goto(f"{base}{reverse('grading:screen', args=[committee.pk, branch.pk])}")
    font_size = page.eval_on_selector("#own-total", "el => getComputedStyle(el).fontSize")
    assert font_size == "76.8px"  # 6vw of 1280px, from board-screen.css

    # The score grid saves through htmx (a header-borne CSRF token, no inline script).
    page.goto(f"{base}{reverse('grading:inputs', args=[committee.pk, draft.month.year, draft.month.month])}")
    cell = page.locator(f"#cell-{draft.branch_id}-production")
    cell.locator("input[name=score]").fill("77")
    cell.locator("input[name=score]").press("Tab")
    page.wait_for_selector(f"#cell-{draft.branch_id}-production [role=status]")

    # A grading run's progress bar is as wide as its class says.
    run = GradingRun.objects.filter(committee=committee, state=GradingRun.State.SUCCEEDED).first()
    page.goto(f"{base}{reverse('grading:run_detail', args=[run.pk])}")
    bar, track = page.locator(".progress-bar").bounding_box(), page.locator(".progress").bounding_box()
    assert abs(bar["width"] - track["width"]) < 1

    # Recording points: choosing a rule with fixed points fills them in (entry-form.js).
    member = Member.objects.filter(branch__path__startswith=committee.path).first()
    page.goto(f"{base}{reverse('ledger:record', args=[member.pk])}")
    fixed = page.locator("#id_rule option[data-points]").first
    page.select_option("#id_rule", fixed.get_attribute("value"))
    assert page.input_value("#id_points") == fixed.get_attribute("data-points")

    # The language switcher submits itself (partybuild.js, not onchange=).
    with page.expect_navigation():  # the submit comes after the change event: wait for it
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"

    # The Django admin, including django-celery-beat's periodic-task form.
    page.context.clear_cookies()
    log_in("admin", DEMO_PASSWORD)
    for name in ("admin:index", "admin:auth_user_changelist", "admin:django_celery_beat_periodictask_add"):
        page.goto(f"{base}{reverse(name)}")
        page.wait_for_load_state("load")
    admin = get_user_model().objects.get(username="admin")
    page.goto(f"{base}{reverse('admin:auth_user_change', args=[admin.pk])}")
    page.locator(".datetimeshortcuts").first.wait_for()  # the admin's own scripts ran

    assert csp_violations == []
