"""The report-back pages: what staff run, what a unit sees, and 404 for outsiders on
every URL."""

import datetime
import io
from decimal import Decimal

import pypdf
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from branches.reportback import services
from branches.reportback.models import Assessment, Comment, Draw, Setup

from .. import factories as f
from .helpers import set_up

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2026, 4, 1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def world(tree, users):
    setup = set_up(tree.plant, [("生产单位", 1, [tree.branch_a, tree.branch_b])], months=2, start=APRIL)
    draw = services.draw_month(setup=setup, month=APRIL, user=users.committee)
    report = draw.reports.get()
    return setup, draw, report


def urls(tree, draw, report):
    """Every report-back URL with real values: (method, url)."""
    session = report.session
    return [
        ("get", reverse("reportback:overview", args=[tree.plant.pk])),
        ("get", reverse("reportback:setup", args=[tree.plant.pk])),
        ("get", reverse("reportback:month", args=[tree.plant.pk, 2026, 4])),
        ("post", reverse("reportback:draw", args=[tree.plant.pk, 2026, 5])),
        ("get", reverse("reportback:replay", args=[draw.pk])),
        ("get", reverse("reportback:redraw", args=[draw.pk])),
        ("get", reverse("reportback:sessions", args=[draw.pk])),
        ("get", reverse("reportback:notice_pdf", args=[draw.pk])),
        ("get", reverse("reportback:session", args=[session.pk])),
        ("post", reverse("reportback:summary", args=[session.pk])),
        ("get", reverse("reportback:report", args=[report.pk])),
        ("post", reverse("reportback:upload", args=[report.pk])),
        ("get", reverse("reportback:report_file", args=[report.pk])),
        ("post", reverse("reportback:comment", args=[report.pk])),
        ("post", reverse("reportback:assess", args=[report.pk])),
        ("get", reverse("reportback:unit_history", args=[report.unit_id])),
    ]


@pytest.mark.parametrize("who", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_on_every_report_back_url(tree, users, world, client, who):
    _setup, draw, report = world
    client.force_login(getattr(users, who))
    for method, url in urls(tree, draw, report):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (url, response.status_code)
    assert Draw.objects.count() == 1 and not Assessment.objects.exists()


def test_the_drawn_units_secretary_sees_its_draw_session_and_report_but_runs_nothing(tree, users, world, client):
    _setup, draw, report = world
    if report.unit != tree.branch_a:  # the secretary's branch must be the drawn one
        draw = services.draw_redraw(draw=draw, user=None, reason="测试")
        while draw.reports.get().unit != tree.branch_a:
            draw = services.draw_redraw(draw=draw, user=None, reason="测试")
        report = draw.reports.get()
    client.force_login(users.secretary)
    expected = {
        "reportback:overview": 404,
        "reportback:setup": 404,
        "reportback:month": 404,
        "reportback:draw": 404,
        "reportback:replay": 200,
        "reportback:redraw": 403,
        "reportback:sessions": 403,
        "reportback:notice_pdf": 200,
        "reportback:session": 200,
        "reportback:summary": 403,
        "reportback:report": 200,
        "reportback:upload": 302,  # its own report: allowed (an empty post is refused with a message)
        "reportback:report_file": 404,  # nothing uploaded yet
        "reportback:comment": 403,
        "reportback:assess": 403,
        "reportback:unit_history": 200,
    }
    for (method, url), name in zip(urls(tree, draw, report), expected, strict=True):
        assert getattr(client, method)(url).status_code == expected[name], name
    # The notice on the unit's own page.
    with time_machine.travel(datetime.datetime(2026, 4, 10, 9, 0), tick=False):
        page = client.get(reverse("branches:unit_detail", args=[tree.branch_a.pk])).content.decode()
    assert "reportback-notice" in page and "计划部署" not in page  # April: the second quarter's theme
    assert "工作进展和创新举措" in page
    with time_machine.travel(datetime.datetime(2026, 4, 10, 9, 0), tick=False):
        home = client.get("/").content.decode()
    assert "reportback-notice" in home and reverse("reportback:report", args=[report.pk]) in home


def test_staff_draw_replay_redraw_arrange_and_score_in_the_browser(tree, users, world, client):
    setup, draw, report = world
    client.force_login(users.committee)
    assert client.get(reverse("reportback:month", args=[tree.plant.pk, 2026, 4])).status_code == 200
    replay = client.get(reverse("reportback:replay", args=[draw.pk])).content.decode()
    assert "The replay gives the same units in the same order" in replay and draw.seed in replay
    # Redraw with a reason; both draws stay.
    response = client.post(reverse("reportback:redraw", args=[draw.pk]), {"reason": "抽签程序演示有误"})
    assert response.status_code == 302
    new = Draw.objects.get(setup=setup, month=APRIL, state="standing")
    page = client.get(reverse("reportback:month", args=[tree.plant.pk, 2026, 4])).content.decode()
    assert "抽签程序演示有误" in page and reverse("reportback:replay", args=[draw.pk]) in page
    # Sessions: place and time.
    report = new.reports.get()
    s1, s2 = new.sessions.order_by("number")
    data = {}
    for s, place in ((s1, "区委第一会议室"), (s2, "区委第二会议室")):
        data |= {
            f"s{s.pk}-date": "2026-04-29",
            f"s{s.pk}-starts_at": "09:00",
            f"s{s.pk}-ends_at": "11:30",
            f"s{s.pk}-place": place,
        }
    data |= {f"r{report.pk}-session": s2.pk, f"r{report.pk}-order": 1}
    assert client.post(reverse("reportback:sessions", args=[new.pk]), data).status_code == 302
    report.refresh_from_db()
    assert report.session == s2 and s2.reports.get().pk == report.pk
    # Report, comments, scores.
    upload = SimpleUploadedFile("述职报告.pdf", PDF, content_type="application/pdf")
    client.post(reverse("reportback:upload", args=[report.pk]), {"file": upload})
    assert client.get(reverse("reportback:report_file", args=[report.pk])).status_code == 200
    client.post(reverse("reportback:comment", args=[report.pk]), {"leader": "李区长", "text": "抓党建促治理成效明显"})
    for assessor, score in (("甲", "90"), ("乙", "80"), ("丙", "60")):
        client.post(
            reverse("reportback:assess", args=[report.pk]), {"assessor": assessor, "score": score, "back": "session"}
        )
    client.post(reverse("reportback:summary", args=[s2.pk]), {"summary_by": "区委书记", "summary": "总体良好"})
    assert Comment.objects.get().leader == "李区长"
    session = client.get(reverse("reportback:session", args=[s2.pk])).content.decode()
    assert "80.00" in session and "总体良好" in session  # trimmed mean of three: the middle one
    pdf = client.get(reverse("reportback:notice_pdf", args=[new.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert report.unit.name in text and "区委第二会议室" in text and "09:00" in text and new.seed in text


def test_the_setup_form_says_what_does_not_fit(tree, users, client):
    client.force_login(users.committee)
    url = reverse("reportback:setup", args=[tree.plant.pk])
    assert client.get(url).status_code == 200
    data = {
        "cycle_start": "2026-04",
        "cycle_months": 1,
        "draw_day": 20,
        "scoring": "trimmed",
        "theme_q1": "a",
        "theme_q2": "b",
        "theme_q3": "c",
        "theme_q4": "d",
        "cat1_name": "生产单位",
        "cat1_quota": 1,
        f"unit_{tree.branch_a.pk}": "1",
        f"unit_{tree.branch_b.pk}": "1",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "reach 1 of its 2 units" in response.content.decode()
    assert not Setup.objects.exists()
    response = client.post(url, data | {"cycle_months": 2})
    assert response.status_code == 302 and Setup.objects.get().pool.count() == 2


def test_the_cycle_matrix_takes_a_fixed_number_of_queries(django_assert_max_num_queries, users, client):
    committee = f.committee(name="大东区委", code="BIG")
    f.user_with_role("committee_staff", committee, username="big_staff")
    units = [f.branch(committee, code=f"B{i}") for i in range(40)]
    setup = set_up(committee, [("区直单位", 8, units)], months=5, start=APRIL)
    for n in range(3):
        draw = services.draw_month(setup=setup, month=datetime.date(2026, 4 + n, 1), user=None)
        for report in draw.reports.all()[:3]:
            services.assessment_set(report=report, assessor="甲", score=Decimal("88"), user=None)
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="big_staff"))
    url = reverse("reportback:overview", args=[committee.pk])
    with django_assert_max_num_queries(25):
        response = client.get(url, {"month": "2026-05"})
    html = response.content.decode()
    assert html.count('data-unit="') == 40
    assert "16 units left to report" in html


def test_the_admin_lists_draws_read_only(world, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-for-tests-123"))
    _setup, draw, _report = world
    for page in ("/admin/reportback/draw/", "/admin/reportback/setup/", f"/admin/reportback/draw/{draw.pk}/change/"):
        assert client.get(page, {"q": "党"} if page.endswith("draw/") else {}).status_code == 200, page
    assert client.get("/admin/reportback/draw/add/").status_code == 403


def test_staff_add_a_third_session_and_move_a_unit_into_it(tree, users, world, client):
    _setup, draw, report = world
    client.force_login(users.committee)
    url = reverse("reportback:sessions", args=[draw.pk])
    assert client.post(url, {"action": "add"}).status_code == 302
    third = draw.sessions.get(number=3)
    data = {}
    for s in draw.sessions.all():
        data |= {f"s{s.pk}-date": "2026-04-29", f"s{s.pk}-starts_at": "09:00", f"s{s.pk}-ends_at": "11:30"}
    data |= {f"r{report.pk}-session": third.pk, f"r{report.pk}-order": 1}
    assert client.post(url, data).status_code == 302
    assert third.reports.get() == report
    data[f"s{third.pk}-ends_at"] = "08:00"  # before it starts: refused, nothing moves
    data[f"r{report.pk}-session"] = draw.sessions.get(number=1).pk
    response = client.post(url, data)
    assert response.status_code == 200 and "The session must end after it starts." in response.content.decode()


def test_the_month_and_session_pages_take_a_fixed_number_of_queries(django_assert_max_num_queries, client):
    committee = f.committee(name="大东区委", code="BIGM")
    staff = f.user_with_role("committee_staff", committee, username="bigm_staff")
    units = [f.branch(committee, code=f"M{i}") for i in range(30)]
    setup = set_up(committee, [("区直单位", 15, units)], months=2, start=APRIL)
    draw = services.draw_month(setup=setup, month=APRIL, user=None)
    for report in draw.reports.all():
        services.comment_add(report=report, leader="区长", text="好", user=None)
        for assessor in ("甲", "乙", "丙"):
            services.assessment_set(report=report, assessor=assessor, score=Decimal("88"), user=None)
    client.force_login(staff)
    session = draw.sessions.get(number=1)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("reportback:month", args=[committee.pk, 2026, 4])).status_code == 200
    with django_assert_max_num_queries(20):
        html = client.get(reverse("reportback:session", args=[session.pk])).content.decode()
    assert html.count("data-report=") == 8


def test_a_group_committee_draws_among_its_sub_committees_and_each_sees_only_its_own(tree, users, client):
    """Any level: the group committee's pool is its two plant committees, one a month."""
    setup = set_up(tree.root, [("二级党委", 1, [tree.plant, tree.other])], months=2, start=APRIL)
    draw = services.draw_month(setup=setup, month=APRIL, user=None)
    report = draw.reports.get()
    mine, theirs = (
        (users.committee, users.other_committee)
        if report.unit == tree.plant
        else (users.other_committee, users.committee)
    )
    client.force_login(mine)
    assert client.get(reverse("reportback:report", args=[report.pk])).status_code == 200
    assert client.get(reverse("reportback:replay", args=[draw.pk])).status_code == 200
    assert client.get(reverse("reportback:overview", args=[tree.root.pk])).status_code == 404
    client.force_login(theirs)
    assert client.get(reverse("reportback:report", args=[report.pk])).status_code == 404
    assert client.get(reverse("reportback:replay", args=[draw.pk])).status_code == 200  # a candidate: may verify
    second = services.draw_month(setup=setup, month=datetime.date(2026, 5, 1), user=None)
    assert {second.reports.get().unit_id, report.unit_id} == {tree.plant.pk, tree.other.pk}
