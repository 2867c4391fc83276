"""Talks (谈话帮扶): every bottom-three branch of a published month needs one, recorded
with date, who, notes and agreed actions; one not recorded within
GRADING_TALK_DUE_DAYS of the publication is overdue and shown in red."""

import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from branches.grading import publishing, services
from branches.grading.models import Talk
from branches.selectors import month_is_closed
from branches.services import month_reopen

from .. import factories as f

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
APRIL = datetime.date(2025, 4, 1)
MARCH = datetime.date(2025, 3, 1)
PUBLISHED = datetime.datetime(2025, 5, 3, 10, 0, tzinfo=SHANGHAI)  # April's ranking is published
DUE = datetime.date(2025, 5, 18)  # 3 May + 15 days
OUTSIDERS = ["other_secretary", "other_committee", "nobody", "secretary"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture(autouse=True)
def _due_days(settings):
    settings.GRADING_TALK_DUE_DAYS = 15


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def enter(branch, score, *, user=None, month=APRIL):
    for dimension in ("committee_work", "production", "other"):
        services.score_input_set(branch=branch, month=month, dimension=dimension, score=Decimal(score), user=user)


def grade_and_publish(committee, user, month=APRIL):
    run = services.grading_run_request(committee=committee, month=month)
    services.grading_run_execute(run_id=run.pk)
    return publishing.board_publish(committee=committee, month=month, user=user)


def talk(
    committee,
    branch,
    *,
    month=APRIL,
    held_on=datetime.date(2025, 5, 8),
    notes="了解情况",
    actions="限期整改",
    user=None,
):
    return publishing.talk_record(
        committee=committee,
        month=month,
        branch=branch,
        held_on=held_on,
        talked_by="李书记",
        talked_with="王支书",
        notes=notes,
        actions=actions,
        user=user,
    )


def messages_of(excinfo) -> str:
    return " ".join(excinfo.value.messages)


@pytest.fixture
def board(tree, users, time_machine):
    """Five branches with totals 45, 40, 35, 30, 25 (nothing held, no members: total =
    50% of the one score each gets); BRC, BRD and BRE are April's bottom three,
    published on 3 May 2025."""
    time_machine.move_to(PUBLISHED)
    c = f.branch(tree.plant, name="运输党支部", code="BRC")
    d = f.branch(tree.plant, name="质检党支部", code="BRD")
    e = f.branch(tree.plant, name="后勤党支部", code="BRE")
    for branch, score in ((tree.branch_a, "90"), (tree.branch_b, "80"), (c, "70"), (d, "60"), (e, "50")):
        enter(branch, score, user=users.committee)
    publication = grade_and_publish(tree.plant, users.committee)
    return SimpleNamespace(
        committee=tree.plant, a=tree.branch_a, b=tree.branch_b, c=c, d=d, e=e, publication=publication
    )


def test_the_bottom_three_are_flagged_in_the_published_ranking(board):
    flagged = publishing.talk_board(board.committee, datetime.date(2025, 5, 4))
    assert [(t.month, t.branch.code, t.score.rank, t.state) for t in flagged] == [
        (APRIL, "BRC", 3, "due"),
        (APRIL, "BRD", 4, "due"),
        (APRIL, "BRE", 5, "due"),
    ]
    assert {t.due_on for t in flagged} == {DUE}


# --- recording ------------------------------------------------------------------------


def test_a_talk_is_recorded_for_a_bottom_three_branch_after_the_month_closed(board, users, time_machine):
    time_machine.move_to(at(datetime.date(2025, 5, 9)))
    assert month_is_closed(committee=board.committee, month=APRIL)

    recorded = talk(board.committee, board.e, user=users.committee)

    assert (recorded.month, recorded.branch, recorded.held_on, recorded.recorded_by) == (
        APRIL,
        board.e,
        datetime.date(2025, 5, 8),
        users.committee,
    )
    assert (recorded.talked_by, recorded.talked_with, recorded.notes, recorded.actions) == (
        "李书记",
        "王支书",
        "了解情况",
        "限期整改",
    )


def test_a_talk_is_refused_for_a_branch_outside_the_bottom_three(board, users):
    with pytest.raises(ValidationError) as excinfo:
        talk(board.committee, board.b, held_on=datetime.date(2025, 5, 3))
    assert "is not in the bottom three" in messages_of(excinfo)
    assert not Talk.objects.exists()


def test_a_talk_is_refused_for_a_month_not_published(board, users):
    with pytest.raises(ValidationError) as excinfo:
        talk(board.committee, board.e, month=MARCH, held_on=datetime.date(2025, 5, 3))
    assert "has not been published" in messages_of(excinfo)


def test_a_talk_cannot_be_dated_in_the_future(board, users, time_machine):
    time_machine.move_to(at(datetime.date(2025, 5, 9)))
    with pytest.raises(ValidationError) as excinfo:
        talk(board.committee, board.e, held_on=datetime.date(2025, 5, 10))
    assert excinfo.value.message_dict == {"held_on": ["A talk cannot be dated in the future."]}


def test_a_talk_cannot_be_dated_before_the_month_of_the_publication(board, users):
    with pytest.raises(ValidationError) as excinfo:
        talk(board.committee, board.e, held_on=datetime.date(2025, 4, 30))
    assert "cannot be dated before 2025-05-01" in messages_of(excinfo)
    assert talk(board.committee, board.e, held_on=datetime.date(2025, 5, 1)).pk


def test_a_talk_needs_notes_and_agreed_actions(board, users):
    with pytest.raises(ValidationError) as excinfo:
        talk(board.committee, board.e, held_on=datetime.date(2025, 5, 3), notes="  ", actions="")
    assert set(excinfo.value.message_dict) == {"notes", "actions"}


def test_a_talk_recorded_before_a_republication_still_counts(board, users, time_machine):
    time_machine.move_to(at(datetime.date(2025, 5, 8)))
    talk(board.committee, board.e, held_on=datetime.date(2025, 5, 8))
    time_machine.move_to(at(datetime.date(2025, 6, 2)))
    month_reopen(committee=board.committee, month=APRIL, reason="更正", user=users.committee)
    services.score_input_set(
        branch=board.a, month=APRIL, dimension="other", score=Decimal("0"), user=users.committee
    )  # 45 → 40.5: still first
    run = services.grading_run_request(committee=board.committee, month=APRIL)
    services.grading_run_execute(run_id=run.pk)
    assert publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee).version == 2

    # A talk held in May about April is still accepted after the June republication.
    talk(board.committee, board.d, held_on=datetime.date(2025, 5, 20))
    states = {
        t.branch.code: (t.state, t.flagged_on)
        for t in publishing.talk_board(board.committee, datetime.date(2025, 6, 2))
    }
    assert states == {
        "BRC": ("overdue", datetime.date(2025, 5, 3)),
        "BRD": ("recorded", datetime.date(2025, 5, 3)),
        "BRE": ("recorded", datetime.date(2025, 5, 3)),
    }


def test_a_republished_month_flags_the_branches_of_its_latest_version(board, users, time_machine):
    time_machine.move_to(at(datetime.date(2025, 6, 2)))
    month_reopen(committee=board.committee, month=APRIL, reason="更正", user=users.committee)
    enter(board.e, "100", user=users.committee)  # 25 → 50: first
    run = services.grading_run_request(committee=board.committee, month=APRIL)
    services.grading_run_execute(run_id=run.pk)
    publishing.board_publish(committee=board.committee, month=APRIL, user=users.committee)

    flagged = publishing.talk_board(board.committee, datetime.date(2025, 6, 3))
    # BRB joins the bottom three in June's version: its talk is due 15 days after that.
    assert [(t.branch.code, t.flagged_on, t.due_on) for t in flagged] == [
        ("BRB", datetime.date(2025, 6, 2), datetime.date(2025, 6, 17)),
        ("BRC", datetime.date(2025, 5, 3), DUE),
        ("BRD", datetime.date(2025, 5, 3), DUE),
    ]
    with pytest.raises(ValidationError):
        talk(board.committee, board.e, held_on=datetime.date(2025, 6, 1))


# --- overdue --------------------------------------------------------------------------


def test_a_talk_not_recorded_is_overdue_the_day_after_its_due_date(board, users, time_machine):
    assert publishing.overdue_talks(board.committee, DUE) == []
    late = DUE + datetime.timedelta(days=1)
    assert [t.branch.code for t in publishing.overdue_talks(board.committee, late)] == ["BRC", "BRD", "BRE"]

    time_machine.move_to(at(late))
    talk(board.committee, board.d, held_on=datetime.date(2025, 5, 10))

    assert [t.branch.code for t in publishing.overdue_talks(board.committee, late)] == ["BRC", "BRE"]


def test_the_due_date_follows_the_setting(board, settings):
    settings.GRADING_TALK_DUE_DAYS = 5
    assert publishing.overdue_talks(board.committee, datetime.date(2025, 5, 8)) == []
    assert len(publishing.overdue_talks(board.committee, datetime.date(2025, 5, 9))) == 3


def test_without_the_setting_a_talk_is_due_in_15_days(board, settings):
    del settings.GRADING_TALK_DUE_DAYS
    assert {t.due_on for t in publishing.talk_board(board.committee, datetime.date(2025, 5, 4))} == {DUE}


def test_a_committee_grading_three_branches_or_fewer_needs_no_talk(tree, users, time_machine):
    time_machine.move_to(PUBLISHED)
    for branch, score in ((tree.branch_a, "90"), (tree.branch_b, "10")):
        enter(branch, score, user=users.committee)
    grade_and_publish(tree.plant, users.committee)
    assert publishing.talk_board(tree.plant, datetime.date(2025, 12, 31)) == []


# --- pages ----------------------------------------------------------------------------


def talks_url(committee):
    return reverse("grading:talks", args=[committee.pk])


def create_url(committee, branch, month=APRIL):
    return reverse("grading:talk_create", args=[committee.pk, month.year, month.month, branch.pk])


def test_the_talks_page_shows_overdue_talks_in_red_and_the_recorded_ones_with_their_contents(
    board, users, login, english, time_machine
):
    time_machine.move_to(at(datetime.date(2025, 5, 20)))
    talk(board.committee, board.c, held_on=datetime.date(2025, 5, 6), notes="分析排名靠后原因", actions="每月专题学习")

    html = login(users.committee).get(talks_url(board.committee)).content.decode()

    assert "2 talks are overdue." in html
    assert f'id="talk-202504-{board.d.pk}" data-state="overdue" class="table-danger"' in html
    assert f'id="talk-202504-{board.c.pk}" data-state="recorded"' in html
    assert "分析排名靠后原因" in html and "每月专题学习" in html
    assert "was due 2025-05-18" in html
    assert create_url(board.committee, board.e) in html


def test_a_due_talk_shows_its_date(board, users, login, english, time_machine):
    time_machine.move_to(at(datetime.date(2025, 5, 10)))
    html = login(users.committee).get(talks_url(board.committee)).content.decode()
    assert "Due on 2025-05-18" in html and "overdue" not in html.split("<main")[1].split("data-state")[0]
    assert 'data-state="overdue"' not in html


def test_the_talk_form_records_a_talk(board, users, login, english, time_machine):
    time_machine.move_to(at(datetime.date(2025, 5, 12)))
    client = login(users.committee)
    page = client.get(create_url(board.committee, board.e)).content.decode()
    assert "Ranked 5 with 25.00" in page and "due by 2025-05-18" in page

    response = client.post(
        create_url(board.committee, board.e),
        {
            "held_on": "2025-05-11",
            "talked_by": "李书记",
            "talked_with": "王支书",
            "notes": "分析原因",
            "actions": "整改",
        },
    )

    assert response.status_code == 302 and response.url == talks_url(board.committee)
    recorded = Talk.objects.get()
    assert (recorded.branch, recorded.month, recorded.held_on, recorded.recorded_by) == (
        board.e,
        APRIL,
        datetime.date(2025, 5, 11),
        users.committee,
    )


def test_the_talk_form_shows_the_refusal_for_a_branch_not_flagged(board, users, login, english, time_machine):
    time_machine.move_to(at(datetime.date(2025, 5, 12)))
    data = {"held_on": "2025-05-11", "talked_by": "李", "talked_with": "王", "notes": "n", "actions": "a"}
    response = login(users.committee).post(create_url(board.committee, board.a), data)
    html = response.content.decode()
    assert response.status_code == 200 and "is not in the bottom three" in html
    assert not Talk.objects.exists()


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_and_branch_secretaries_get_404_on_the_talk_pages(board, users, login, who):
    client = login(getattr(users, who))
    data = {"held_on": "2025-05-03", "talked_by": "李", "talked_with": "王", "notes": "n", "actions": "a"}
    assert client.get(talks_url(board.committee)).status_code == 404
    assert client.get(create_url(board.committee, board.e)).status_code == 404
    assert client.post(create_url(board.committee, board.e), data).status_code == 404
    assert not Talk.objects.exists()


def test_a_branch_of_another_committee_is_not_found_on_the_talk_form(board, tree, users, login):
    assert login(users.committee).get(create_url(board.committee, tree.branch_x)).status_code == 404


def test_the_talks_page_query_count_does_not_grow_with_months(board, users, login, time_machine):
    client = login(users.committee)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(talks_url(board.committee)).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for month, day in (
        (datetime.date(2025, 5, 1), datetime.date(2025, 6, 3)),
        (datetime.date(2025, 6, 1), datetime.date(2025, 7, 3)),
    ):
        time_machine.move_to(at(day))
        for branch, score in ((board.a, "90"), (board.b, "80"), (board.c, "70"), (board.d, "60"), (board.e, "50")):
            enter(branch, score, month=month, user=users.committee)
        grade_and_publish(board.committee, users.committee, month=month)
        talk(board.committee, board.e, month=month, held_on=day, user=users.admin)
    assert len(publishing.talk_board(board.committee, datetime.date(2025, 7, 3))) == 9
    client = login(users.committee)  # the session of 3 May has expired by July
    assert queries() == few
