"""A member on a phone (390 × 844): logs in with the one-time password the secretary
handed out, is made to choose their own, sees their points and the committee's published
board, and submits a suggestion that lands in the branch's workflow. No page is wider
than the screen, and the Content-Security-Policy refuses nothing."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from branches.grading import publishing
from branches.grading import services as grading
from members.ledger.models import Rule
from members.ledger.services import ledger_entry_record, rule_version_for
from members.me import services as me
from members.suggestions.models import State, Suggestion

from .conftest import REPORT_CSP_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, csp_violations):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console",
        lambda m: csp_violations.append(m.text) if m.type == "error" and "CSP violation" in m.text else None,
    )
    yield page
    context.close()
    assert csp_violations == [], "the Content-Security-Policy refused something"


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_member_logs_in_on_a_phone_sees_points_and_board_and_suggests(tree, member_a, phone, live_server):
    today = timezone.localdate()
    month = today.replace(day=1)
    rule = Rule.objects.get(version=rule_version_for(unit=member_a.branch, month=month), code="study_task")
    ledger_entry_record(member=member_a, rule=rule, month=month, points=Decimal("3"), reason="学习强国", user=None)
    april = datetime.date(today.year - 1, 4, 1)
    for branch in (tree.branch_a, tree.branch_b):
        for dimension in ("committee_work", "production", "other"):
            grading.score_input_set(branch=branch, month=april, dimension=dimension, score=Decimal("80"), user=None)
    run = grading.grading_run_request(committee=tree.plant, month=april)
    grading.grading_run_execute(run_id=run.pk)
    publishing.board_publish(committee=tree.plant, month=april, user=None)
    issued = me.member_login_create(member=member_a, user=None)

    page = phone
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", issued.username)
    page.fill("input[name=password]", issued.password)
    page.click("button[type=submit]")
    # First login: the password change comes before anything else.
    page.wait_for_selector("#forced-change")
    page.goto(f"{live_server.url}/me/points/")
    page.wait_for_selector("#forced-change")
    page.fill("input[name=old_password]", issued.password)
    page.fill("input[name=new_password1]", "Hongqi-2025-mine")
    page.fill("input[name=new_password2]", "Hongqi-2025-mine")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/me/")

    assert page.locator("h1").inner_text() == member_a.name
    assert page.locator("#me-month-total").inner_text() == "3.00"
    assert "政治生日" in page.locator("#me-birthday").inner_text()
    assert fits(page)

    page.click(".pb-me-nav a[href='/me/points/']")
    page.wait_for_selector("#me-entries")
    assert "学习强国" in page.locator("#me-entries").inner_text()
    assert fits(page)

    page.click(".pb-me-nav a[href='/me/board/']")
    board = page.wait_for_selector("#me-board")
    assert tree.branch_a.name in board.inner_text() and tree.branch_b.name in board.inner_text()
    assert page.locator(".pb-me-own").count() == 1
    assert fits(page)

    page.click(".pb-me-nav a[href='/me/suggest/']")
    page.fill("input[name=title]", "优化连铸结晶器冷却水")
    page.select_option("select[name=field]", "process")
    page.fill("textarea[name=text]", "调整水量曲线，降低漏钢风险。")
    page.click("main form [type=submit]")
    page.wait_for_selector("#my-suggestions [data-state='submitted']")
    assert fits(page)
    suggestion = Suggestion.objects.get()
    assert suggestion.state == State.SUBMITTED and list(suggestion.proposers.all()) == [member_a]

    # Anything else is a 404 for the member.
    response = page.goto(f"{live_server.url}/members/{member_a.pk}/")
    assert response.status == 404


def test_a_member_scans_the_code_and_the_secretary_sees_it_arrive(tree, users, member_a, phone, browser, live_server):
    from branches.activities import qr
    from branches.activities import services as activities
    from branches.activities.models import Attendance

    from ..me.factories import member_login

    activity = activities.activity_create(
        branch=tree.branch_a, kind="party_lecture", title="党课", date=timezone.localdate(), class_hours=2, user=None
    )
    attendance = Attendance.objects.get(activity=activity, member=member_a)
    activities.attendance_set(attendance=attendance, status="absent", user=None)
    member_login(member_a, password="Hongqi-2025-mine")

    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    desk.goto(f"{live_server.url}/accounts/login/")
    desk.fill("input[name=username]", "secretary")
    desk.fill("input[name=password]", "pw-for-tests-123")
    desk.click("main button[type=submit]")
    desk.wait_for_url(f"{live_server.url}/")
    desk.goto(f"{live_server.url}{activity.get_absolute_url()}")
    desk.wait_for_function(
        "() => { const i = document.querySelector('#qr-code'); return i && i.complete && i.naturalWidth > 0; }"
    )
    assert desk.locator(f"#att-{attendance.pk} .qr-signed").count() == 0
    # The secretary's workbench, open beside it: today's activity, no one signed in yet.
    bench = desk.context.new_page()
    bench.goto(f"{live_server.url}/")
    count = bench.locator(f"[data-today-activity='{activity.pk}'] .qr-count")
    assert count.inner_text().startswith("0")

    page = phone
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", member_a.employee_no)
    page.fill("input[name=password]", "Hongqi-2025-mine")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/me/")
    # What the code holds (the phone's camera would open it).
    page.goto(f"{live_server.url}/activities/{activity.pk}/checkin/{qr.qr_token(activity)}/")
    page.click("#checkin")
    page.wait_for_selector("#checkin-done")

    # The secretary's grid polls its rows: the sign-in arrives without a reload.
    desk.wait_for_selector(f"#att-{attendance.pk} .qr-signed", timeout=20_000)
    assert "btn-danger" in desk.locator(f"#att-{attendance.pk} [data-status=present]").get_attribute("class")
    # …and the workbench's panel, polling too, counts the sign-in.
    bench.wait_for_function(
        f"() => document.querySelector(\"[data-today-activity='{activity.pk}'] .qr-count\").innerText.startsWith('1')",
        timeout=20_000,
    )
    desk.context.close()
