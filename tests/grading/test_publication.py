"""Publication (公示): refused while the draft is missing, stale or incomplete or the month
closed; otherwise an exact copy of the draft as a new version, and the month closed.
Reopening, regrading and republishing adds version 2 and keeps version 1; the
difference between them is readable by everyone under the committee."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from branches.grading import publishing, services
from branches.grading.models import (
    BranchScore,
    MemberScore,
    Publication,
    PublishedBranchScore,
)
from branches.models import MonthEvent
from branches.selectors import month_is_closed
from branches.services import month_reopen
from members.ledger.services import ledger_entry_record, rule_version_for
from members.services import member_transfer

from .. import factories as f

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2025, 4, 1)
OUTSIDERS = ["other_secretary", "other_committee", "nobody"]
SCORE_FIELDS = [
    "basics",
    "committee_work",
    "production",
    "membership",
    "other",
    "total",
    "rank",
    "bottom_three",
    "required",
    "held",
    "present",
    "late",
    "absent",
    "excused",
    "members",
    "member_mean",
    "max_mean",
    "attendance_half",
    "points_half",
]
MEMBER_FIELDS = ["branch", "political", "training", "org_life", "exemplary", "duty", "deduction", "total", "stars"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def enter(branch, score, *, dimensions=("committee_work", "production", "other"), user=None, month=APRIL):
    for dimension in dimensions:
        services.score_input_set(branch=branch, month=month, dimension=dimension, score=Decimal(score), user=user)


def grade(committee, month=APRIL):
    run = services.grading_run_request(committee=committee, month=month)
    return services.grading_run_execute(run_id=run.pk)


def award(member, code, points, *, month=APRIL, reason="支部会议决定"):
    rule = rule_version_for(unit=member.branch, month=month).rules.get(code=code)
    return ledger_entry_record(member=member, rule=rule, month=month, points=Decimal(points), reason=reason, user=None)


def messages_of(excinfo) -> str:
    return " ".join(excinfo.value.messages)


def publish_url(committee, month=APRIL):
    return reverse("grading:publish", args=[committee.pk, month.year, month.month])


def changes_url(publication):
    return reverse("grading:publication_changes", args=[publication.pk])


@pytest.fixture
def board(tree, users, member_a):
    """PLANT grades five branches; nothing was held, so basics are 0. Every entered
    dimension gets the same score s, so total = (15 + 25 + 10)% × s + 20% × membership.
    member_a (BRA) earns +3 and is the committee's highest mean: BRA's points half is
    100 and its membership 50. Totals: BRA 45 + 10 = 55, BRB 40, BRC 35, BRD 30, BRE 25;
    BRC, BRD and BRE are the bottom three."""
    c = f.branch(tree.plant, name="运输党支部", code="BRC")
    d = f.branch(tree.plant, name="质检党支部", code="BRD")
    e = f.branch(tree.plant, name="后勤党支部", code="BRE")
    member_b = f.MemberFactory(branch=tree.branch_b, name="赵敏")
    award(member_a, "study_task", "3")
    for branch, score in ((tree.branch_a, "90"), (tree.branch_b, "80"), (c, "70"), (d, "60"), (e, "50")):
        enter(branch, score, user=users.committee)
    return SimpleNamespace(
        committee=tree.plant, a=tree.branch_a, b=tree.branch_b, c=c, d=d, e=e, member=member_a, member_b=member_b
    )


def test_the_scenario_grades_as_computed_by_hand(board):
    grade(board.committee)
    totals = {s.branch.code: (s.total, s.rank, s.bottom_three) for s in BranchScore.objects.select_related("branch")}
    assert totals == {
        "BRA": (Decimal("55.00"), 1, False),
        "BRB": (Decimal("40.00"), 2, False),
        "BRC": (Decimal("35.00"), 3, True),
        "BRD": (Decimal("30.00"), 4, True),
        "BRE": (Decimal("25.00"), 5, True),
    }


# --- refusals -----------------------------------------------------------------------


def test_publishing_without_a_successful_run_is_refused(board, users):
    with pytest.raises(ValidationError) as excinfo:
        publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    assert "has not been graded successfully yet" in messages_of(excinfo)
    assert not Publication.objects.exists() and not month_is_closed(committee=board.committee, month=APRIL)


def test_publishing_a_stale_draft_is_refused_until_the_month_is_graded_again(board, users):
    grade(board.committee)
    enter(board.e, "55", dimensions=["other"], user=users.committee)

    status = publishing.draft_status(board.committee, APRIL)
    assert status.stale and not status.ready
    with pytest.raises(ValidationError) as excinfo:
        publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    assert "have changed since the last grading run" in messages_of(excinfo)
    assert not Publication.objects.exists()

    grade(board.committee)
    assert not publishing.draft_status(board.committee, APRIL).stale
    assert publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee).version == 1


def test_a_ledger_entry_after_the_run_makes_the_draft_stale(board, users):
    grade(board.committee)
    award(board.member_b, "study_task", "3")
    assert publishing.draft_status(board.committee, APRIL).stale


def test_a_branch_created_after_the_run_makes_the_draft_stale(board, users):
    grade(board.committee)
    f.branch(board.committee, code="BRNEW")
    status = publishing.draft_status(board.committee, APRIL)
    assert status.stale and [m.branch.code for m in status.missing] == ["BRNEW"]


def test_publishing_with_a_missing_entered_dimension_is_refused_and_names_the_branches(board, users):
    f.branch(board.committee, name="新建党支部", code="BRF")
    enter(board.committee.children.get(code="BRF"), "70", dimensions=["production"], user=users.committee)
    grade(board.committee)

    status = publishing.draft_status(board.committee, APRIL)
    assert not status.stale and status.missing_count == 2
    assert [(m.branch.code, m.dimensions) for m in status.missing] == [("BRF", ["committee_work", "other"])]
    with pytest.raises(ValidationError) as excinfo:
        publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    assert "A month cannot be published while any entered dimension is missing" in messages_of(excinfo)
    assert "新建党支部" in messages_of(excinfo)
    assert not Publication.objects.exists()


def test_not_assessed_is_not_missing(board, users):
    branch = f.branch(board.committee, code="BRF")
    enter(branch, "70", dimensions=["committee_work", "other"], user=users.committee)
    services.score_input_set(
        branch=branch, month=APRIL, dimension="production", score=None, not_assessed=True, user=users.committee
    )
    grade(board.committee)
    assert publishing.draft_status(board.committee, APRIL).ready


def test_publishing_a_closed_month_is_refused(board, users):
    grade(board.committee)
    publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    with pytest.raises(ValidationError) as excinfo:
        publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    assert "is already closed" in messages_of(excinfo)
    assert Publication.objects.count() == 1


# --- publishing -----------------------------------------------------------------------


def test_publishing_copies_the_draft_exactly_and_closes_the_month(board, users):
    run = grade(board.committee)
    publication = publishing.board_publish(
        committee=board.committee, month=APRIL, user=users.committee, note="四月公示"
    )

    assert (publication.version, publication.run, publication.published_by, publication.note) == (
        1,
        run,
        users.committee,
        "四月公示",
    )
    draft = {s.branch_id: model_to_dict(s, fields=SCORE_FIELDS) for s in BranchScore.objects.all()}
    published = {s.branch_id: model_to_dict(s, fields=SCORE_FIELDS) for s in publication.branch_scores.all()}
    assert published == draft and len(published) == 5
    assert published[board.e.pk]["total"] == Decimal("25.00") and published[board.e.pk]["bottom_three"]
    draft_members = {s.member_id: model_to_dict(s, fields=MEMBER_FIELDS) for s in MemberScore.objects.all()}
    published_members = {s.member_id: model_to_dict(s, fields=MEMBER_FIELDS) for s in publication.member_scores.all()}
    assert published_members == draft_members
    assert published_members[board.member.pk]["total"] == Decimal("3.00")

    assert month_is_closed(committee=board.committee, month=APRIL)
    event = MonthEvent.objects.get(committee_month__committee=board.committee)
    assert (event.action, event.user, event.reason) == (
        "close",
        users.committee,
        "Ranking published (version 1). 四月公示",
    )
    # A ledger write for the month is now refused.
    with pytest.raises(ValidationError) as excinfo:
        award(board.member_b, "study_task", "3")
    assert "closed" in messages_of(excinfo)


def test_publishing_copies_members_set_based_in_a_constant_number_of_queries(board, users):
    def republish():
        month_reopen(committee=board.committee, month=APRIL, reason="补录", user=users.committee)
        grade(board.committee)
        with CaptureQueriesContext(connection) as ctx:
            publication = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
        return publication, len(ctx.captured_queries)

    grade(board.committee)
    publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    few, few_queries = republish()
    for _i in range(25):
        f.MemberFactory(branch=board.d)
    many, many_queries = republish()
    assert few.member_scores.count() == 2 and many.member_scores.count() == 27
    assert many_queries == few_queries


def test_reopen_regrade_and_republish_make_version_2_and_leave_version_1_as_it_was(board, users):
    grade(board.committee)
    first = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    v1_branches = {s.branch_id: model_to_dict(s, fields=SCORE_FIELDS) for s in first.branch_scores.all()}
    v1_members = {s.member_id: model_to_dict(s, fields=MEMBER_FIELDS) for s in first.member_scores.all()}

    month_reopen(committee=board.committee, month=APRIL, reason="运输党支部生产经营分录错", user=users.committee)
    # BRE's scores were wrong: 100 each → 50 + 0 = 50, rank 2. member_a gets −2: 3 → 1.
    enter(board.e, "100", user=users.committee)
    award(board.member, "deduction", "-2", reason="未按时交纳党费")
    grade(board.committee)
    second = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee, note="更正")

    assert second.version == 2 and month_is_closed(committee=board.committee, month=APRIL)
    assert {s.branch_id: model_to_dict(s, fields=SCORE_FIELDS) for s in first.branch_scores.all()} == v1_branches
    assert {s.member_id: model_to_dict(s, fields=MEMBER_FIELDS) for s in first.member_scores.all()} == v1_members
    assert PublishedBranchScore.objects.filter(publication=second, branch=board.e).get().total == Decimal("50.00")

    diff = publishing.publication_diff(first, second)
    by_code = {b.branch.code: b for b in diff.branches}
    e = {v.field: (v.before, v.after) for v in by_code["BRE"].values if v.changed}
    assert e == {
        "total": (Decimal("25.00"), Decimal("50.00")),
        "rank": (5, 2),
        "committee_work": (Decimal("50.00"), Decimal("100.00")),
        "production": (Decimal("50.00"), Decimal("100.00")),
        "other": (Decimal("50.00"), Decimal("100.00")),
        "bottom_three": (True, False),
    }
    # BRB moves from rank 2 to 3 and joins the bottom three; BRA's total is unchanged
    # (its mean is still the highest, so its points half stays 100).
    assert {b.branch.code for b in diff.changed_branches} == {"BRB", "BRC", "BRD", "BRE"}
    assert not by_code["BRA"].changed
    assert [(m.member_id, m.old_total, m.total) for m in diff.members] == [
        (board.member.pk, Decimal("3.00"), Decimal("1.00"))
    ]
    assert not diff.members_gone.exists()


def test_a_member_who_left_the_committee_between_versions_shows_as_gone(tree, board, users):
    grade(board.committee)
    first = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    month_reopen(committee=board.committee, month=APRIL, reason="名册更正", user=users.committee)
    member_transfer(member=board.member_b, to_branch=tree.branch_x, on_date=datetime.date(2025, 4, 15))
    grade(board.committee)
    second = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)

    diff = publishing.publication_diff(first, second)
    assert [m.member_id for m in diff.members_gone] == [board.member_b.pk]


# --- pages ----------------------------------------------------------------------------


def test_the_publish_page_shows_the_draft_status_with_links_to_the_missing_cells(board, users, login, english):
    enter(board.e, "50", user=users.committee)  # after the fixture's entries: no run yet
    missing = f.branch(board.committee, name="新建党支部", code="BRF")
    grade(board.committee)

    html = login(users.committee).get(publish_url(board.committee)).content.decode()

    assert "Up to date" in html and "6 branches, 2 members" in html
    assert "3 cells" in html and "新建党支部" in html
    grid = reverse("grading:inputs", args=[board.committee.pk, 2025, 4])
    assert f"{grid}?page=1#row-{missing.pk}" in html
    assert "A month cannot be published while any entered dimension is missing" in html
    assert "Nothing published yet." in html


def confirm(client, committee, run, note=""):
    """The second step: the confirmation page's form, naming the draft's run."""
    return client.post(
        publish_url(committee), {"action": "publish", "confirmed": "1", "run": run.pk, "publish-note": note}
    )


def test_the_publish_page_publishes_and_then_offers_to_reopen(board, users, login, english):
    run = grade(board.committee)
    client = login(users.committee)

    asked = client.post(publish_url(board.committee), {"action": "publish", "publish-note": "四月"})
    assert asked.status_code == 200 and not Publication.objects.exists()
    response = confirm(client, board.committee, run, note="四月")

    assert response.status_code == 302 and response.url == publish_url(board.committee)
    publication = Publication.objects.get()
    assert (publication.version, publication.note, publication.published_by) == (1, "四月", users.committee)
    html = client.get(publish_url(board.committee)).content.decode()
    assert "Version 1 of April 2025 is published" in html
    assert "Reopen with a reason" in html and changes_url(publication) in html


def test_publish_without_the_confirmation_only_says_what_would_happen(board, users, login, english):
    grade(board.committee)

    response = login(users.committee).post(publish_url(board.committee), {"action": "publish", "publish-note": "四月"})

    assert response.status_code == 200 and not Publication.objects.exists()
    assert not month_is_closed(committee=board.committee, month=APRIL)
    html = response.content.decode()
    assert "April 2025 closes." in html and "visible to every branch under the committee" in html
    assert 'name="confirmed" value="1"' in html and 'name="publish-note" value="四月"' in html


def test_the_confirmation_names_the_talks_that_become_due_and_by_when(board, users, login, english, settings):
    settings.GRADING_TALK_DUE_DAYS = 15
    grade(board.committee)
    today = timezone.localdate()

    html = login(users.committee).post(publish_url(board.committee), {"action": "publish"}).content.decode()

    # BRC, BRD and BRE are the bottom three: three talks, each due 15 days from today.
    assert "<strong>3 talks (谈话帮扶) become due</strong>" in html
    talks = html.split('id="talks-due"')[1].split("</ul>")[0]
    due = f"due by {today + datetime.timedelta(days=15):%Y-%m-%d}"
    for branch in (board.c, board.d, board.e):
        assert f'data-branch="{branch.pk}"' in talks and branch.name in talks
    assert talks.count(due) == 3
    assert board.a.name not in talks and board.b.name not in talks
    assert "as version 1 of the board, with 5 branches ranked" in html


def test_the_confirmation_counts_from_the_first_flag_and_leaves_out_talks_already_held(board, users, login, english):
    run = grade(board.committee)
    client = login(users.committee)
    confirm(client, board.committee, run)
    first = Publication.objects.get()
    publishing.talk_record(
        committee=board.committee,
        month=APRIL,
        branch=board.c,
        held_on=timezone.localdate(),
        talked_by="书记",
        talked_with="支部书记",
        notes="谈话",
        actions="整改",
        user=users.committee,
    )
    month_reopen(committee=board.committee, month=APRIL, reason="更正", user=users.committee)
    grade(board.committee)

    preview = publishing.publish_preview(board.committee, APRIL, timezone.localdate() + datetime.timedelta(days=5))

    flagged_on = timezone.localtime(first.published_at).date()
    assert preview.version == 2
    assert [(t.branch, t.due_on) for t in preview.talks] == [
        (board.d, flagged_on + datetime.timedelta(days=publishing.talk_due_days())),
        (board.e, flagged_on + datetime.timedelta(days=publishing.talk_due_days())),
    ]


def test_a_confirmation_for_a_draft_graded_again_since_asks_again(board, users, login, english):
    run = grade(board.committee)
    grade(board.committee)  # a newer run: the draft the page showed is not the one now

    response = confirm(login(users.committee), board.committee, run)

    assert response.status_code == 200 and not Publication.objects.exists()
    assert "graded again since" in response.content.decode() and 'name="confirmed"' in response.content.decode()


def test_the_publish_page_shows_why_it_refuses(board, users, login, english):
    grade(board.committee)
    enter(board.a, "91", dimensions=["other"], user=users.committee)

    response = login(users.committee).post(publish_url(board.committee), {"action": "publish"})

    assert response.status_code == 200 and "Grade the month again before publishing" in response.content.decode()
    assert not Publication.objects.exists()


def test_the_publish_page_reopens_the_month_with_a_reason(board, users, login, english):
    grade(board.committee)
    publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    client = login(users.committee)

    refused = client.post(publish_url(board.committee), {"action": "reopen", "reopen-reason": ""})
    assert refused.status_code == 200 and month_is_closed(committee=board.committee, month=APRIL)

    response = client.post(publish_url(board.committee), {"action": "reopen", "reopen-reason": "补录生产经营得分"})
    assert response.status_code == 302 and not month_is_closed(committee=board.committee, month=APRIL)
    event = MonthEvent.objects.filter(action="reopen").get()
    assert (event.reason, event.user) == ("补录生产经营得分", users.committee)
    assert "补录生产经营得分" in client.get(publish_url(board.committee)).content.decode()


def test_the_changes_page_shows_what_changed_between_versions(board, users, login, english):
    grade(board.committee)
    first = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    month_reopen(committee=board.committee, month=APRIL, reason="更正", user=users.committee)
    enter(board.e, "100", user=users.committee)
    grade(board.committee)
    second = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    client = login(users.committee)

    html = client.get(changes_url(second)).content.decode()
    assert f'id="branch-{board.e.pk}"' in html and f'id="branch-{board.a.pk}"' not in html
    assert "25.00" in html and "50.00" in html
    assert "Compared with version 1" in html
    assert f'id="branch-{board.a.pk}"' in client.get(changes_url(second) + "?all=1").content.decode()
    assert "first published version" in client.get(changes_url(first)).content.decode()


def test_a_secretary_under_the_committee_reads_what_changed_but_not_the_manage_pages(board, users, login):
    grade(board.committee)
    publication = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    client = login(users.secretary)

    assert client.get(changes_url(publication)).status_code == 200
    assert client.get(publish_url(board.committee)).status_code == 404
    assert client.post(publish_url(board.committee), {"action": "reopen", "reopen-reason": "x"}).status_code == 404
    assert client.get(reverse("grading:inputs", args=[board.committee.pk, 2025, 4])).status_code == 404
    assert client.get(reverse("grading:talks", args=[board.committee.pk])).status_code == 404
    talk_url = reverse("grading:talk_create", args=[board.committee.pk, 2025, 4, board.e.pk])
    assert client.get(talk_url).status_code == 404
    assert month_is_closed(committee=board.committee, month=APRIL)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_get_404_on_the_publication_pages(board, users, login, who):
    grade(board.committee)
    publication = publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)
    client = login(getattr(users, who))

    assert client.get(changes_url(publication)).status_code == 404
    assert client.get(publish_url(board.committee)).status_code == 404
    assert client.post(publish_url(board.committee), {"action": "reopen", "reopen-reason": "x"}).status_code == 404
    assert month_is_closed(committee=board.committee, month=APRIL)


def test_a_publication_that_does_not_exist_is_not_found(tree, users, login):
    assert login(users.admin).get(reverse("grading:publication_changes", args=[999999])).status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _republish(committee, users, branch):
    grade(committee)
    first = publishing.board_publish(committee=committee, month=APRIL, user=users.committee)
    month_reopen(committee=committee, month=APRIL, reason="更正", user=users.committee)
    enter(branch, "99", user=users.committee)
    grade(committee)
    return first, publishing.board_publish(committee=committee, month=APRIL, user=users.committee)


def test_the_publish_and_changes_pages_do_not_grow_their_queries_with_branches(tree, users, login):
    small = f.committee(name="小党委", code="SMALL", parent=tree.root)
    big = f.committee(name="大党委", code="BIG", parent=tree.root)
    staff = f.user_with_role("committee_staff", tree.root, username="root_staff")
    client = login(staff)
    for committee, n in ((small, 4), (big, 30)):
        branches = [f.branch(committee, code=f"{committee.code}{i}") for i in range(n)]
        for i, branch in enumerate(branches):
            enter(branch, str(40 + i), user=users.committee)
        for i in range(n // 2):
            f.MemberFactory(branch=branches[i])
        _first, second = _republish(committee, users, branches[-1])
        committee.second = second
    # Both committees are closed after version 2; each page is read once per size.
    assert _queries(client, publish_url(small)) == _queries(client, publish_url(big))
    assert _queries(client, changes_url(small.second)) == _queries(client, changes_url(big.second))
