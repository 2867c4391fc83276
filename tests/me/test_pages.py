"""The member's own pages: their points with every entry and its source, their stars and
rank from the published board, the committee's board, training hours, 政治生日, and a
suggestion submitted into the workflow."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.activities import services as activities
from branches.grading import publishing
from branches.grading import services as grading
from members.ledger.models import Rule
from members.ledger.services import ledger_entry_record, rule_version_for
from members.suggestions.models import State, Suggestion, SuggestionTransition

from .. import factories as f
from .factories import member_login

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
APRIL = datetime.date(TODAY.year - 1, 4, 1)


def award(member, month, points="3", reason="学习强国月度任务"):
    """The monthly study task (+3), or a deduction for a negative number of points."""
    code = "deduction" if Decimal(points) < 0 else "study_task"
    rule = Rule.objects.get(version=rule_version_for(unit=member.branch, month=month), code=code)
    return ledger_entry_record(member=member, rule=rule, month=month, points=Decimal(points), reason=reason, user=None)


@pytest.fixture
def me(tree, member_a, client):
    user, _issued = member_login(member_a)
    client.force_login(user)
    return member_a


@pytest.fixture
def published(tree, member_a):
    """April of last year graded and published for PLANT: member_a 2nd of three in BRANCH_A."""
    better = f.MemberFactory(branch=tree.branch_a, name="赵强")
    f.MemberFactory(branch=tree.branch_a, name="钱敏")
    award(member_a, APRIL)
    award(member_a, APRIL, "-1", reason="会议迟到未请假")
    award(better, APRIL)
    for branch in (tree.branch_a, tree.branch_b):
        for dimension in ("committee_work", "production", "other"):
            grading.score_input_set(branch=branch, month=APRIL, dimension=dimension, score=Decimal("80"), user=None)
    run = grading.grading_run_request(committee=tree.plant, month=APRIL)
    grading.grading_run_execute(run_id=run.pk)
    return publishing.board_publish(committee=tree.plant, month=APRIL, user=None)


def test_home_shows_this_month_and_year_by_category(me, client):
    award(me, THIS_MONTH)
    if THIS_MONTH.month > 1:
        award(me, THIS_MONTH.replace(month=1))
    response = client.get(reverse("me:home"))
    assert response.status_code == 200
    points = response.context["points"]
    assert points.month_total == Decimal("3.00")
    assert points.year_total == (Decimal("6.00") if THIS_MONTH.month > 1 else Decimal("3.00"))
    assert dict(points.month_categories)["political"] == Decimal("3.00")
    content = response.content.decode()
    assert me.name in content and 'id="me-birthday"' in content and 'id="me-training"' in content


def test_the_home_page_of_a_member_login_is_their_own_page(me, client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("me:home")


def test_points_list_every_entry_with_its_source(me, client, tree):
    activity = activities.activity_create(
        branch=tree.branch_a, kind="themed_day", title="重温入党誓词", date=TODAY, user=None
    )
    award(me, THIS_MONTH, reason="完成学习任务")
    response = client.get(reverse("me:points"))
    assert response.status_code == 200
    content = response.content.decode()
    entries = list(response.context["entries"])
    assert {e.source for e in entries} >= {"manual"}
    assert "完成学习任务" in content
    # An attendance entry names the activity it came from (plain text: not the member's page).
    attendance_entries = [e for e in entries if e.source == "attendance"]
    if attendance_entries:
        assert "重温入党誓词" in content
    assert reverse("activities:detail", args=[activity.pk]) not in content


def test_points_page_reads_in_fixed_queries(me, client, django_assert_max_num_queries):
    for month in range(1, THIS_MONTH.month + 1):
        award(me, THIS_MONTH.replace(month=month))
    with django_assert_max_num_queries(16):
        assert client.get(reverse("me:points")).status_code == 200


def test_stars_and_rank_come_from_the_published_board(me, client, published):
    response = client.get(reverse("me:points"), {"year": APRIL.year})
    [standing] = response.context["standings"]
    assert standing.month == APRIL and standing.rank == 2 and standing.of == 3
    home = client.get(reverse("me:home"))
    if not home.context["points"].year_total and TODAY.year == APRIL.year + 1:
        latest = home.context["latest"]
        assert latest is None or latest.rank == 2


def test_the_board_is_the_latest_publication_of_the_committee(me, client, published, tree):
    response = client.get(reverse("me:board"))
    assert response.status_code == 200
    board = response.context["board"]
    assert board.publication == published
    assert {row.branch for row in board.rows} == {tree.branch_a, tree.branch_b}
    content = response.content.decode()
    # Read-only: no link to the committee's explanation pages.
    assert "/grading/" not in content


def test_nothing_published_says_so(me, client):
    response = client.get(reverse("me:board"))
    assert response.status_code == 200 and response.context["board"] is None


def test_a_suggestion_submitted_by_the_member_lands_in_the_workflow(me, client):
    response = client.post(
        reverse("me:suggest"),
        {"title": "优化连铸结晶器冷却水", "field": "process", "text": "调整水量曲线，降低漏钢风险。"},
    )
    assert response.status_code == 302
    suggestion = Suggestion.objects.get()
    assert list(suggestion.proposers.all()) == [me]
    assert suggestion.branch == me.branch and suggestion.state == State.SUBMITTED
    assert suggestion.created_by == me.user
    assert SuggestionTransition.objects.get(suggestion=suggestion).move == "submit"
    page = client.get(reverse("me:suggest"))
    assert "优化连铸结晶器冷却水" in page.content.decode()


def test_a_suggestion_without_text_is_refused_in_place(me, client):
    response = client.post(reverse("me:suggest"), {"title": "x", "field": "process", "text": "   "})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Suggestion.objects.exists()


def test_political_birthday_and_training(me, client):
    response = client.get(reverse("me:home"))
    birthday = response.context["birthday"]
    assert birthday.next_on >= TODAY and birthday.next_on.month == me.joined_on.month
    assert birthday.years == birthday.next_on.year - me.joined_on.year
    assert response.context["training"].hours == Decimal("0.0")


def test_staff_without_a_member_record_get_404_on_member_pages(users, login):
    client = login(users.secretary)
    for name in ("me:home", "me:points", "me:board", "me:suggest"):
        assert client.get(reverse(name)).status_code == 404, name


def test_home_reads_in_fixed_queries(me, client, published, django_assert_max_num_queries):
    """17 today, 19 with commitments (session, scope, member — read once a request —,
    points, standings, annual stars, training, …), whatever the number of months and
    entries."""
    for month in range(1, THIS_MONTH.month + 1):
        award(me, THIS_MONTH.replace(month=month))
    with django_assert_max_num_queries(20):
        assert client.get(reverse("me:home")).status_code == 200


def test_home_shows_my_commitments_and_their_checks(me, client):
    from members.commitments.models import Commitment, CommitmentCheck

    commitment = Commitment.objects.create(
        branch=me.branch, member=me, year=TODAY.year, text="全年无违章作业，带徒两名", field="other"
    )
    CommitmentCheck.objects.create(commitment=commitment, period="mid", result="met")
    response = client.get(reverse("me:home"))
    content = response.content.decode()
    assert "全年无违章作业" in content and 'data-result="met"' in content
    # Plain text: the commitment's page is the branch's, not the member's.
    assert commitment.get_absolute_url() not in content
