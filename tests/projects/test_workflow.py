"""The project's state machine: every move from the right states only, refused with a
message that names the move and the state; every step recorded (who, when)."""

import pytest
from django.core.exceptions import ValidationError

from branches.projects import services
from branches.projects.models import Project, ProjectTransition

pytestmark = pytest.mark.django_db


def test_an_application_goes_from_draft_through_approval_to_evaluation(draft, users):
    services.project_submit(project=draft, user=users.secretary)
    services.project_return(project=draft, user=users.committee, reason="目标不够量化")
    services.project_submit(project=draft, user=users.secretary)
    services.project_approve(project=draft, user=users.committee)
    services.project_conclude(project=draft, user=users.secretary, results="铸坯合格率提高到99.2%")
    services.project_evaluate(project=draft, user=users.committee, grade=1)
    draft.refresh_from_db()
    assert draft.state == Project.State.EVALUATED
    assert draft.grade == 1
    assert draft.results == "铸坯合格率提高到99.2%"
    rows = list(
        ProjectTransition.objects.filter(project=draft).values_list("move", "from_state", "to_state", "user__username")
    )
    assert rows == [
        ("submit", "draft", "submitted", "secretary"),
        ("return", "submitted", "returned", "committee"),
        ("submit", "returned", "submitted", "secretary"),
        ("approve", "submitted", "active", "committee"),
        ("conclude", "active", "concluded", "secretary"),
        ("evaluate", "concluded", "evaluated", "committee"),
    ]
    assert ProjectTransition.objects.get(move="return").reason == "目标不够量化"


def test_a_draft_cannot_be_approved(draft, users):
    with pytest.raises(ValidationError) as exc:
        services.project_approve(project=draft, user=users.committee)
    assert exc.value.messages == ["Approve is not possible now: the record is Draft."]
    assert Project.objects.get(pk=draft.pk).state == Project.State.DRAFT
    assert not ProjectTransition.objects.exists()


def test_a_double_submit_moves_once(draft, users):
    services.project_submit(project=draft, user=users.secretary)
    stale = Project.objects.get(pk=draft.pk)
    stale.state = Project.State.DRAFT  # what a second tab still shows
    with pytest.raises(ValidationError, match="Submitted"):
        services.project_submit(project=stale, user=users.secretary)
    assert ProjectTransition.objects.filter(move="submit").count() == 1


def test_a_return_needs_a_reason(draft, users):
    services.project_submit(project=draft, user=users.secretary)
    with pytest.raises(ValidationError, match="Say why"):
        services.project_return(project=draft, user=users.committee, reason=" ")


def test_a_project_in_progress_cannot_be_evaluated_or_edited(project, users, kinds):
    with pytest.raises(ValidationError, match="Evaluate is not possible now: the record is In progress"):
        services.project_evaluate(project=project, user=users.committee, grade=2)
    with pytest.raises(ValidationError, match="only as a draft or when returned"):
        services.project_update(
            project=project, kind=kinds["挑战项目"], title="x", field="cost", year=2026, user=users.secretary
        )


def test_conclusion_needs_results(project, users):
    with pytest.raises(ValidationError, match="results"):
        services.project_conclude(project=project, user=users.secretary, results="")


def test_a_submission_needs_a_leader(tree, users, kinds):
    bare = services.project_create(
        branch=tree.branch_a, kind=kinds["党员先锋工程"], title="先锋岗", field="safety", year=2026, user=None
    )
    with pytest.raises(ValidationError, match="leader"):
        services.project_submit(project=bare, user=users.secretary)


def test_the_leader_comes_from_the_lead_or_a_co_branch(tree, kinds, member_x):
    with pytest.raises(ValidationError) as exc:
        services.project_create(
            branch=tree.branch_a,
            kind=kinds["党员先锋工程"],
            title="x",
            field="other",
            year=2026,
            leader=member_x,
            user=None,
        )
    assert "leader" in exc.value.message_dict


def test_a_milestone_moves_only_while_the_project_runs(draft, users):
    milestone = services.milestone_add(project=draft, title="方案评审", due_on=draft.created_at.date())
    with pytest.raises(ValidationError, match="the project is Draft"):
        services.milestone_accept(milestone=milestone, user=users.committee)


def test_a_milestone_cannot_be_withdrawn_before_it_is_accepted(milestone, users):
    with pytest.raises(ValidationError, match="Withdraw the acceptance is not possible now: the record is Pending"):
        services.milestone_withdraw(milestone=milestone, user=users.committee, reason="误操作")


def test_value_is_refused_outside_progress_and_for_future_months(draft, project, users):
    import datetime

    from django.utils import timezone

    next_month = (timezone.localdate().replace(day=28) + datetime.timedelta(days=5)).replace(day=1)
    with pytest.raises(ValidationError, match="not for"):
        services.value_record_add(project=project, month=next_month, amount=1, user=users.secretary)
