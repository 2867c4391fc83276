"""The ledger pages: a member's ledger, a branch's month, the entries behind any total,
recording and reversing by hand, evidence; outsiders get 404 everywhere; query counts
stay flat."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.activities import services as activity_services
from branches.activities.models import Attendance
from branches.services import month_close
from members.ledger.models import LedgerEntry, Rule, RuleSetVersion
from members.ledger.services import ledger_entry_record, ledger_entry_reverse, rule_version_for
from members.services import member_transfer

from .. import factories as f

pytestmark = pytest.mark.django_db

FEB = datetime.date(2025, 2, 1)
MARCH = datetime.date(2025, 3, 1)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def english(client):
    """Assertions on page text read the English msgids, whatever the catalogue says."""
    client.cookies["django_language"] = "en"
    return client


def pdf(name="award.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def award(member, code, points, month=MARCH, *, user=None, reason="支部会议决定", evidence=None) -> LedgerEntry:
    rule = rule_version_for(unit=member.branch, month=month).rules.get(code=code)
    return ledger_entry_record(
        member=member, rule=rule, month=month, points=Decimal(points), reason=reason, user=user, evidence=evidence
    )


def themed_day(branch, day: datetime.date):
    return activity_services.activity_create(branch=branch, kind="themed_day", title="主题党日", date=day, user=None)


@pytest.fixture
def ledger(tree, users, member_a):
    """February: the study task (+3). March: two themed days (+2, then marked absent:
    reversed and −2), a deduction of −4 entered and reversed, an award of +5 with evidence.
    So March is org_life 2, deduction −2, exemplary 5 = 5, and the year runs to 8."""
    other = f.MemberFactory(branch=tree.branch_a, group=tree.group_a2, name="陈静")
    study = award(member_a, "study_task", "3", FEB, user=users.secretary)
    first_day = themed_day(tree.branch_a, datetime.date(2025, 3, 5))
    second_day = themed_day(tree.branch_a, datetime.date(2025, 3, 20))
    activity_services.attendance_set(
        attendance=Attendance.objects.get(activity=second_day, member=member_a), status="absent", user=users.secretary
    )
    deduction = award(member_a, "deduction", "-4", user=users.secretary, reason="未按时交纳党费")
    deduction_reversal = ledger_entry_reverse(entry=deduction, reason="已补交，撤销扣分", user=users.secretary)
    exemplary = award(member_a, "exemplary_award", "5", user=users.secretary, reason="抢修突击", evidence=pdf())
    return SimpleNamespace(
        member=member_a,
        other=other,
        study=study,
        first_day=first_day,
        second_day=second_day,
        deduction=deduction,
        deduction_reversal=deduction_reversal,
        exemplary=exemplary,
    )


def category_totals(month_totals) -> dict[str, Decimal]:
    return {category.value: total for category, total in month_totals.categories if total}


# The member's ledger


def test_the_member_ledger_shows_totals_per_category_month_and_the_running_total(ledger, users, english):
    english.force_login(users.secretary)
    response = english.get(reverse("ledger:member_ledger", args=[ledger.member.pk]), {"year": 2025})
    assert response.status_code == 200
    feb, march = response.context["months"]
    assert (feb.month, feb.total, feb.running) == (FEB, Decimal("3.00"), Decimal("3.00"))
    assert category_totals(feb) == {"political": Decimal("3.00")}
    assert (march.month, march.total, march.running) == (MARCH, Decimal("5.00"), Decimal("8.00"))
    assert category_totals(march) == {
        "org_life": Decimal("2.00"),
        "deduction": Decimal("-2.00"),
        "exemplary": Decimal("5.00"),
    }
    assert response.context["year_total"] == Decimal("8.00")
    html = response.content.decode()
    assert '<span class="fs-5" id="year-total">8.00</span>' in html
    assert '<span class="text-danger">-2.00</span>' in html  # negative points in red


def test_each_total_of_the_member_ledger_links_to_the_entries_behind_it(ledger, users, english):
    english.force_login(users.secretary)
    html = english.get(reverse("ledger:member_ledger", args=[ledger.member.pk]), {"year": 2025}).content.decode()
    link = f"{reverse('ledger:entries')}?member={ledger.member.pk}&amp;month=2025-03&amp;category=deduction"
    assert link in html
    # Following it lists exactly the entries that make up the −2.00.
    response = english.get(
        reverse("ledger:entries"), {"member": ledger.member.pk, "month": "2025-03", "category": "deduction"}
    )
    assert response.context["total"] == Decimal("-2.00")
    assert {e.pk for e in response.context["page"]} == set(
        LedgerEntry.objects.filter(member=ledger.member, month=MARCH, category="deduction").values_list("pk", flat=True)
    )
    assert len(response.context["page"]) == 3  # the absence, the deduction and its reversal


def test_reversals_are_shown_as_such_and_cannot_be_reversed_again(ledger, users, english):
    english.force_login(users.secretary)
    response = english.get(reverse("ledger:member_ledger", args=[ledger.member.pk]), {"year": 2025})
    html = response.content.decode()
    assert f"reversal of #{ledger.deduction.pk}" in html
    assert f"reversed by #{ledger.deduction_reversal.pk}" in html
    assert "<del>" in html
    entries = {e.pk: e for _totals, month_entries in response.context["sections"] for e in month_entries}
    assert not entries[ledger.deduction.pk].can_reverse
    assert not entries[ledger.deduction_reversal.pk].can_reverse
    assert entries[ledger.exemplary.pk].can_reverse
    reverse_url = reverse("ledger:reverse", args=[ledger.exemplary.pk])
    assert reverse_url in html and reverse("ledger:reverse", args=[ledger.deduction.pk]) not in html


def test_attendance_entries_link_to_their_activity_and_evidence_to_its_file(ledger, users, english):
    english.force_login(users.secretary)
    html = english.get(reverse("ledger:member_ledger", args=[ledger.member.pk]), {"year": 2025}).content.decode()
    assert reverse("activities:detail", args=[ledger.first_day.pk]) in html
    assert reverse("activities:detail", args=[ledger.second_day.pk]) in html
    assert reverse("ledger:evidence", args=[ledger.exemplary.pk]) in html
    assert reverse("ledger:evidence", args=[ledger.deduction.pk]) not in html


def test_the_year_selector_shows_one_year_at_a_time(ledger, users, english):
    award(ledger.member, "study_task", "3", datetime.date(2024, 11, 1))
    english.force_login(users.secretary)
    url = reverse("ledger:member_ledger", args=[ledger.member.pk])
    earlier = english.get(url, {"year": 2024})
    assert [(m.month, m.running) for m in earlier.context["months"]] == [(datetime.date(2024, 11, 1), Decimal("3.00"))]
    assert "?year=2025" in earlier.content.decode()
    # The running total starts again with each year.
    assert english.get(url, {"year": 2025}).context["year_total"] == Decimal("8.00")
    assert english.get(url, {"year": "nonsense"}).status_code == 200


# The branch's month


def test_the_branch_month_shows_members_by_categories_with_totals(tree, ledger, users, english):
    quiet = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name="赵敏")
    english.force_login(users.secretary)
    response = english.get(reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 3]))
    assert response.status_code == 200
    matrix = response.context["matrix"]
    assert [row.member for row in matrix.rows][:2] == [ledger.member, ledger.other]
    rows = {row.member.pk: row for row in matrix.rows}
    assert rows[ledger.member.pk].total == Decimal("5.00")
    assert {c.value: t for c, t in rows[ledger.member.pk].categories if t} == {
        "org_life": Decimal("2.00"),
        "deduction": Decimal("-2.00"),
        "exemplary": Decimal("5.00"),
    }
    assert rows[ledger.other.pk].total == Decimal("4.00")
    # A member with no points this month is listed with zeros.
    assert rows[quiet.pk].total == 0 and all(t == 0 for _c, t in rows[quiet.pk].categories)
    assert {c.value: t for c, t in matrix.column_totals if t} == {
        "org_life": Decimal("6.00"),
        "deduction": Decimal("-2.00"),
        "exemplary": Decimal("5.00"),
    }
    assert matrix.total == Decimal("9.00")
    html = response.content.decode()
    cell = (
        f"{reverse('ledger:entries')}?branch={tree.branch_a.pk}&amp;member={ledger.member.pk}"
        f"&amp;month=2025-03&amp;category=exemplary"
    )
    assert cell in html
    assert reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 2]) in html
    assert reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 4]) in html


def test_the_branch_month_orders_by_total_then_employee_number(tree, users, client):
    members = [f.MemberFactory(branch=tree.branch_a, employee_no=f"B{i}") for i in range(3)]
    award(members[2], "study_task", "3")
    client.force_login(users.secretary)
    rows = client.get(reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 3])).context["matrix"].rows
    assert [row.member.employee_no for row in rows] == ["B2", "B0", "B1"]


def test_the_branch_month_includes_members_transferred_in_and_out(tree, users, english):
    arriving = f.MemberFactory(branch=tree.branch_b, name="调入者")
    leaving = f.MemberFactory(branch=tree.branch_a, name="调出者")
    award(arriving, "study_task", "3")  # booked to branch B, before the transfer
    award(leaving, "deduction", "-1")  # booked to branch A, before the transfer
    member_transfer(member=arriving, to_branch=tree.branch_a, on_date=datetime.date(2025, 3, 15))
    member_transfer(member=leaving, to_branch=tree.branch_b, on_date=datetime.date(2025, 3, 16))
    arriving.refresh_from_db()
    award(arriving, "deduction", "-2")  # booked to branch A, after the transfer
    english.force_login(users.secretary)
    response = english.get(reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 3]))
    rows = {row.member.pk: row for row in response.context["matrix"].rows}
    # Belonged at the month's end: in, with only what was booked to this branch.
    assert rows[arriving.pk].belonged and rows[arriving.pk].total == Decimal("-2.00")
    # Left during the month but has entries booked here: in, and marked.
    assert not rows[leaving.pk].belonged and rows[leaving.pk].total == Decimal("-1.00")
    assert "left the branch this month" in response.content.decode()
    # February: the arriving member was not there yet.
    february = english.get(reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 2])).context["matrix"]
    assert arriving.pk not in {row.member.pk for row in february.rows}
    # Branch B's March shows the arriving member's entry booked there before they left.
    english.force_login(users.committee)
    b_rows = {
        row.member.pk: row
        for row in english.get(reverse("ledger:branch_month", args=[tree.branch_b.pk, 2025, 3])).context["matrix"].rows
    }
    assert b_rows[arriving.pk].total == Decimal("3.00") and not b_rows[arriving.pk].belonged
    assert b_rows[leaving.pk].belonged and b_rows[leaving.pk].total == 0


def test_the_branch_month_refuses_a_month_that_does_not_exist_or_a_unit_that_is_no_branch(tree, users, client):
    client.force_login(users.committee)
    assert client.get(reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 13])).status_code == 404
    assert client.get(reverse("ledger:branch_month", args=[tree.plant.pk, 2025, 3])).status_code == 404


def test_the_current_month_address_redirects_to_this_month(tree, users, client):
    client.force_login(users.secretary)
    response = client.get(reverse("ledger:branch_month_current", args=[tree.branch_a.pk]))
    today = timezone.localdate()
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:branch_month", args=[tree.branch_a.pk, today.year, today.month])


# The entries list


def test_the_entries_list_filters_and_sums(tree, ledger, users, client):
    client.force_login(users.secretary)
    url = reverse("ledger:entries")
    march = client.get(url, {"branch": tree.branch_a.pk, "month": "2025-03"})
    expected = LedgerEntry.objects.filter(branch=tree.branch_a, month=MARCH)
    assert march.context["page"].paginator.count == expected.count()
    assert march.context["total"] == Decimal("9.00")
    by_rule = client.get(url, {"branch": tree.branch_a.pk, "month": "2025-03", "rule": "org_absent"})
    assert [e.member for e in by_rule.context["page"]] == [ledger.member]
    assert by_rule.context["total"] == Decimal("-2.00")
    member_year = client.get(url, {"member": ledger.member.pk, "month": ""})
    assert member_year.context["total"] == Decimal("8.00")
    assert member_year.context["month"] is None
    # With neither a month nor a member the list starts at this month.
    assert client.get(url).context["month"] == timezone.localdate().replace(day=1)
    # A filter that does not parse is ignored and said so; the others still apply.
    bad = client.get(url, {"member": ledger.member.pk, "month": "2025-13", "category": "political"})
    assert bad.context["form"].errors and bad.context["total"] == Decimal("3.00")


def test_the_entries_list_pages_by_fifty(tree, users, client):
    members = [f.MemberFactory(branch=tree.branch_a) for _ in range(26)]
    for day in (datetime.date(2025, 3, 5), datetime.date(2025, 3, 20)):
        themed_day(tree.branch_a, day)
    client.force_login(users.secretary)
    first = client.get(reverse("ledger:entries"), {"month": "2025-03"})
    assert len(first.context["page"]) == 50 and first.context["page"].paginator.count == 52
    assert first.context["total"] == Decimal("104.00")  # the sum of all, not of the page
    second = client.get(reverse("ledger:entries"), {"month": "2025-03", "page": 2})
    assert len(second.context["page"]) == 2
    assert "month=2025-03" in first.context["query"]
    assert len(members) == 26


# Recording by hand


def test_a_secretary_records_an_award_with_evidence(member_a, users, english):
    english.force_login(users.secretary)
    url = reverse("ledger:record", args=[member_a.pk])
    form = english.get(url)
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.content.decode()
    assert 'type="month"' in form.content.decode()
    response = english.post(
        url,
        {
            "month": "2025-03",
            "rule": rule_pk("exemplary_award"),
            "points": "6",
            "reason": "抢修突击",
            "evidence": pdf(),
        },
    )
    entry = LedgerEntry.objects.get(member=member_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:member_ledger", args=[member_a.pk]) + "?year=2025"
    assert (entry.month, entry.points, entry.recorded_by, entry.reason) == (
        MARCH,
        Decimal("6.00"),
        users.secretary,
        "抢修突击",
    )
    assert entry.evidence.read() == PDF
    page = english.get(response["Location"])
    assert "+6.00 points for" in page.content.decode()


def rule_pk(code: str, month=MARCH) -> int:
    return Rule.objects.get(
        version__rule_set__committee__isnull=True, version__effective_month__lte=month, code=code
    ).pk


def test_the_form_offers_only_manual_rules_and_fills_in_fixed_points(member_a, users, english):
    english.force_login(users.secretary)
    response = english.get(reverse("ledger:record", args=[member_a.pk]))
    rules = response.context["form"].fields["rule"].queryset
    assert {rule.code for rule in rules} == {"study_task", "exemplary_award", "deduction"}
    # Attendance, projects, suggestions and commitments post their own points.
    assert not [rule for rule in rules if rule.source != "manual"]
    html = response.content.decode()
    assert 'data-points="3.00"' in html  # the study task's fixed points, for the page's script
    assert "at most +3.00" not in html and "at most 3.00 a month" in html
    # Sent without points, a fixed rule records its points.
    english.post(
        reverse("ledger:record", args=[member_a.pk]),
        {"month": "2025-03", "rule": rule_pk("study_task"), "reason": "完成学习任务"},
    )
    assert LedgerEntry.objects.get(member=member_a).points == Decimal("3.00")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rule": "deduction", "points": "-11"}, "allows -10.00 to -1.00 points"),
        ({"rule": "deduction", "points": ""}, "Enter the points"),
        ({"rule": "deduction", "points": "-2", "reason": ""}, "This field is required"),
        ({"rule": "exemplary_award", "points": "5"}, "needs evidence"),
        ({"rule": "exemplary_award", "points": "5", "evidence": "notes.txt"}, "Attach a photo (JPG, PNG) or a PDF"),
        ({"rule": "exemplary_award", "points": "5", "evidence": "fake.pdf"}, "is not really a PDF file"),
        ({"rule": "org_present", "points": "2"}, "Select a valid choice"),
        ({"rule": "deduction", "points": "-2", "month": "2099-01"}, "this month or an earlier one"),
    ],
)
def test_the_record_form_shows_what_is_wrong(member_a, users, english, data, message):
    english.force_login(users.secretary)
    evidence = data.pop("evidence", None)
    post = {"month": "2025-03", "reason": "理由"} | data
    post["rule"] = rule_pk(data["rule"])
    if evidence == "notes.txt":
        post["evidence"] = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    elif evidence == "fake.pdf":
        post["evidence"] = SimpleUploadedFile("fake.pdf", PNG, content_type="application/pdf")
    response = english.post(reverse("ledger:record", args=[member_a.pk]), post)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_the_record_form_refuses_past_the_cap_and_in_a_closed_month(tree, member_a, users, english):
    award(member_a, "study_task", "3")
    english.force_login(users.secretary)
    url = reverse("ledger:record", args=[member_a.pk])
    post = {"month": "2025-03", "rule": rule_pk("study_task"), "points": "3", "reason": "完成学习任务"}
    capped = english.post(url, post)
    assert capped.status_code == 200 and "at most 0.00 more" in capped.content.decode()
    month_close(committee=tree.plant, month=datetime.date(2025, 2, 1), user=users.committee)
    closed = english.post(url, post | {"month": "2025-02"})
    assert closed.status_code == 200 and "February 2025 is closed" in closed.content.decode()
    assert LedgerEntry.objects.count() == 1
    english.post(url, post | {"month": "2025-04"})
    assert LedgerEntry.objects.count() == 2


def test_the_rule_list_follows_the_version_of_the_chosen_month(tree, member_a, users, english):
    old = rule_version_for(unit=tree.branch_a, month=MARCH)
    new = RuleSetVersion.objects.create(rule_set=old.rule_set, number=2, effective_month=datetime.date(2025, 6, 1))
    Rule.objects.create(
        version=new,
        code="study_task",
        name="学习任务",
        category="political",
        source="manual",
        points_min=5,
        points_max=5,
    )
    english.force_login(users.secretary)
    url = reverse("ledger:record", args=[member_a.pk])
    june = english.get(url, {"month": "2025-06"}).context["form"].fields["rule"].queryset
    assert [r.version_id for r in june] == [new.pk]
    # A rule of March's version sent for June is not a choice there.
    response = english.post(
        url, {"month": "2025-06", "rule": rule_pk("study_task"), "points": "3", "reason": "完成学习任务"}
    )
    assert response.status_code == 200 and not LedgerEntry.objects.exists()


def test_no_points_are_recorded_for_a_member_who_left(member_a, users, client):
    from members.services import member_leave

    member_leave(member=member_a, on_date=datetime.date(2025, 1, 1), reason="transfer_out")
    client.force_login(users.secretary)
    assert client.get(reverse("ledger:record", args=[member_a.pk])).status_code == 403


# Reversing by hand


def test_a_secretary_reverses_an_entry_with_a_reason(ledger, users, english):
    english.force_login(users.secretary)
    url = reverse("ledger:reverse", args=[ledger.exemplary.pk])
    assert english.get(url).status_code == 200
    no_reason = english.post(url, {"reason": ""})
    assert no_reason.status_code == 200 and no_reason.context["form"].errors
    response = english.post(url, {"reason": "重复录入"})
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:member_ledger", args=[ledger.member.pk]) + "?year=2025"
    reversal = LedgerEntry.objects.get(reverses=ledger.exemplary)
    assert (reversal.points, reversal.reason, reversal.recorded_by) == (Decimal("-5.00"), "重复录入", users.secretary)


def test_reversing_a_reversal_or_a_reversed_entry_is_refused_with_a_clear_message(ledger, users, english):
    english.force_login(users.secretary)
    count = LedgerEntry.objects.count()
    for entry, message in (
        (ledger.deduction_reversal, f"reverses #{ledger.deduction.pk} and cannot itself be reversed"),
        (ledger.deduction, f"has already been reversed by #{ledger.deduction_reversal.pk}"),
    ):
        url = reverse("ledger:reverse", args=[entry.pk])
        page = english.get(url)
        assert message in page.content.decode() and 'name="reason"' not in page.content.decode()
        refused = english.post(url, {"reason": "再次更正"})
        assert refused.status_code == 200 and message in refused.content.decode()
    assert LedgerEntry.objects.count() == count


def test_reversing_in_a_closed_month_names_the_month(tree, ledger, users, english):
    month_close(committee=tree.plant, month=MARCH, user=users.committee)
    english.force_login(users.secretary)
    response = english.post(reverse("ledger:reverse", args=[ledger.exemplary.pk]), {"reason": "重复录入"})
    assert response.status_code == 200 and "March 2025 is closed" in response.content.decode()
    assert not LedgerEntry.objects.filter(reverses=ledger.exemplary).exists()


# Evidence


def test_the_owner_opens_the_evidence_in_the_browser(ledger, users, client):
    client.force_login(users.secretary)
    response = client.get(reverse("ledger:evidence", args=[ledger.exemplary.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == PDF
    assert client.get(reverse("ledger:evidence", args=[ledger.deduction.pk])).status_code == 404


# Outsiders and anonymous visitors


def ledger_urls(tree, ledger) -> list[tuple[str, str, dict]]:
    """Every ledger URL that names something of branch A, with its method and data."""
    member = ledger.member.pk
    return [
        ("get", reverse("ledger:member_ledger", args=[member]), {}),
        ("get", reverse("ledger:member_ledger", args=[member]), {"year": 2025}),
        ("get", reverse("ledger:record", args=[member]), {}),
        ("post", reverse("ledger:record", args=[member]), {"month": "2025-03", "rule": 1, "reason": "x"}),
        ("get", reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 3]), {}),
        ("get", reverse("ledger:branch_month_current", args=[tree.branch_a.pk]), {}),
        ("get", reverse("ledger:entries"), {"member": member}),
        ("get", reverse("ledger:entries"), {"branch": tree.branch_a.pk, "month": "2025-03"}),
        ("get", reverse("ledger:entries"), {"branch": tree.plant.pk}),
        ("get", reverse("ledger:reverse", args=[ledger.exemplary.pk]), {}),
        ("post", reverse("ledger:reverse", args=[ledger.exemplary.pk]), {"reason": "x"}),
        ("get", reverse("ledger:evidence", args=[ledger.exemplary.pk]), {}),
        ("post", reverse("ledger:evidence", args=[ledger.exemplary.pk]), {}),
    ]


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "nobody"])
def test_an_outsider_gets_404_on_every_ledger_page_of_another_branch(tree, ledger, users, client, outsider):
    count = LedgerEntry.objects.count()
    client.force_login(getattr(users, outsider))
    for method, url, data in ledger_urls(tree, ledger):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (outsider, method, url, data, response.status_code)
    assert LedgerEntry.objects.count() == count


@pytest.mark.parametrize("owner", ["secretary", "committee", "admin"])
def test_the_owners_reach_every_ledger_page_of_the_branch(tree, ledger, users, client, owner):
    client.force_login(getattr(users, owner))
    current = reverse("ledger:branch_month_current", args=[tree.branch_a.pk])
    for method, url, data in ledger_urls(tree, ledger):
        if method != "get" or (owner == "secretary" and data.get("branch") == tree.plant.pk):
            continue  # the committee above is not the secretary's to see
        assert client.get(url, data).status_code == (302 if url == current else 200), (owner, url, data)


def test_an_outsiders_entry_list_shows_nothing_of_another_branch(tree, ledger, member_x, users, client):
    award(member_x, "deduction", "-3")
    client.force_login(users.other_secretary)
    response = client.get(reverse("ledger:entries"), {"month": "2025-03"})
    assert {e.member_id for e in response.context["page"]} == {member_x.pk}
    assert response.context["total"] == Decimal("-3.00")


def test_anonymous_visitors_are_sent_to_the_login_page(tree, ledger, client):
    for method, url, data in ledger_urls(tree, ledger):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


# Query counts


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def busy_month(branch, members, day: datetime.date) -> None:
    """A themed day for the branch, one absence, one manual deduction and its reversal."""
    activity = themed_day(branch, day)
    activity_services.attendance_set(
        attendance=Attendance.objects.get(activity=activity, member=members[0]), status="absent", user=None
    )
    for member in members:
        deduction = award(member, "deduction", "-1", day.replace(day=1))
        ledger_entry_reverse(entry=deduction, reason="录入错误", user=None)


def test_the_member_ledger_query_count_does_not_grow_with_entries(tree, member_a, users, client):
    client.force_login(users.secretary)
    busy_month(tree.branch_a, [member_a], datetime.date(2025, 1, 10))
    award(member_a, "exemplary_award", "2", datetime.date(2025, 1, 1), evidence=pdf())
    url = reverse("ledger:member_ledger", args=[member_a.pk])
    few = count_queries(client, url, {"year": 2025})
    for month in range(2, 11):
        busy_month(tree.branch_a, [member_a], datetime.date(2025, month, 10))
    assert LedgerEntry.objects.filter(member=member_a).count() >= 30
    assert count_queries(client, url, {"year": 2025}) == few


def test_the_branch_month_query_count_does_not_grow_with_members(tree, users, client):
    client.force_login(users.secretary)
    url = reverse("ledger:branch_month", args=[tree.branch_a.pk, 2025, 3])
    members = [f.MemberFactory(branch=tree.branch_a, group=tree.group_a1) for _ in range(3)]
    busy_month(tree.branch_a, members, datetime.date(2025, 3, 10))
    few = count_queries(client, url)
    more = [f.MemberFactory(branch=tree.branch_a, group=tree.group_a2) for _ in range(27)]
    busy_month(tree.branch_a, more, datetime.date(2025, 3, 20))
    assert len(client.get(url).context["matrix"].rows) == 30
    assert count_queries(client, url) == few


def test_the_entries_list_query_count_does_not_grow_with_entries(tree, member_a, users, client):
    client.force_login(users.secretary)
    busy_month(tree.branch_a, [member_a], datetime.date(2025, 3, 10))
    params = {"branch": tree.branch_a.pk, "month": "2025-03"}
    few = count_queries(client, reverse("ledger:entries"), params)
    member_few = count_queries(client, reverse("ledger:entries"), {"member": member_a.pk, "month": ""})
    busy_month(tree.branch_a, [f.MemberFactory(branch=tree.branch_a) for _ in range(10)], datetime.date(2025, 3, 20))
    assert LedgerEntry.objects.filter(month=MARCH).count() >= 30
    assert count_queries(client, reverse("ledger:entries"), params) == few
    assert count_queries(client, reverse("ledger:entries"), {"member": member_a.pk, "month": ""}) == member_few


def test_the_branch_month_reads_three_queries_that_name_members_by_id(tree, users, member_a):
    from members.ledger.selectors import branch_month_matrix

    for _ in range(5):
        f.MemberFactory(branch=tree.branch_a)
    with CaptureQueriesContext(connection) as ctx:
        matrix = branch_month_matrix(branch=tree.branch_a, month=datetime.date(2025, 3, 1))
    assert len(matrix.rows) == 6 and len(ctx.captured_queries) == 3
    # No "pk IN (subquery) OR pk IN (subquery)": that made PostgreSQL plan for most of
    # the member table at 100,000 members.
    member_query = ctx.captured_queries[-1]["sql"]
    assert " OR " not in member_query and "SELECT" not in member_query.split("WHERE", 1)[1]


def test_application_connections_run_with_jit_off(db):
    from ..conftest import requires_postgres

    requires_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_the_member_ledger_reads_the_member_once(tree, member_a, users, client):
    """The breadcrumb's link to the member is decided from the member the page read
    (its branch against the scope), not by reading the member again."""
    from branches import links

    client.force_login(users.secretary)
    url = reverse("ledger:member_ledger", args=[member_a.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(url).content.decode()
    assert f'href="{member_a.get_absolute_url()}"' in html
    assert sum('FROM "members_member"' in q["sql"] for q in ctx.captured_queries) == 1
    # The same answer as the view's own access check, for those outside the scope too.
    member_a.refresh_from_db()
    assert links.url_if_allowed(users.other_secretary, member_a) is None
    assert links.url_if_allowed(users.committee, member_a) == member_a.get_absolute_url()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_tables_write_points_as_floatformat_did(language):
    from django.template.defaultfilters import floatformat
    from django.utils import translation

    from members.ledger.templatetags.ledger_tables import points_text

    with translation.override(language):
        for value in ["0.00", "5.00", "-2.00", "12345.50", "0.05", "-0.50"]:
            assert points_text(Decimal(value)) == floatformat(Decimal(value), 2)
