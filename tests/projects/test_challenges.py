"""揭榜: the committee posts, branches claim with a pledge, the committee picks one claim
and the project starts in progress; the other claims are closed."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from branches.projects import services
from branches.projects.models import ChallengeClaim, Project, ProjectTransition
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def challenge(tree, users, kinds):
    return services.challenge_post(
        committee=tree.plant,
        kind=kinds["挑战项目"],
        title="转炉炉龄提升攻关",
        description="炉龄由8000炉提高到10000炉",
        targets="炉龄 ≥ 10000 炉",
        deadline=timezone.localdate() + datetime.timedelta(days=10),
        reward=5,
        user=users.committee,
    )


def pledge(branch, leader=None, **kwargs):
    return {
        "branch": branch,
        "leader": leader,
        "pledge": "年底前炉龄突破10000炉，否则支部书记检讨",
        "pledge_by": timezone.localdate() + datetime.timedelta(days=200),
        **kwargs,
    }


def test_picking_a_claim_starts_the_project_and_closes_the_others(challenge, tree, users, member_a):
    mine = services.challenge_claim(challenge=challenge, user=users.secretary, **pledge(tree.branch_a, member_a))
    theirs = services.challenge_claim(challenge=challenge, user=users.committee, **pledge(tree.branch_b))
    project = services.challenge_pick(claim_row=mine, user=users.committee)
    assert project.state == Project.State.ACTIVE
    assert (project.branch, project.leader, project.challenge, project.committee) == (
        tree.branch_a,
        member_a,
        challenge,
        tree.plant,
    )
    challenge.refresh_from_db()
    assert challenge.state == "awarded"
    assert ChallengeClaim.objects.get(pk=mine.pk).state == "picked"
    assert ChallengeClaim.objects.get(pk=theirs.pk).state == "closed"
    [transition] = ProjectTransition.objects.filter(project=project)
    assert (transition.move, transition.to_state, transition.user) == ("pick", "active", users.committee)
    with pytest.raises(ValidationError, match="Pick a claim is not possible now: the record is Awarded"):
        services.challenge_pick(claim_row=theirs, user=users.committee)
    assert Project.objects.count() == 1


def test_a_claim_is_refused_after_the_deadline_and_from_outside(challenge, tree, users):
    with pytest.raises(ValidationError) as exc:
        services.challenge_claim(challenge=challenge, user=users.other_secretary, **pledge(tree.branch_x))
    assert "branch" in exc.value.message_dict
    challenge.deadline = timezone.localdate() - datetime.timedelta(days=1)
    challenge.save()
    with pytest.raises(ValidationError, match="Claims closed"):
        services.challenge_claim(challenge=challenge, user=users.secretary, **pledge(tree.branch_a))


def test_a_branch_claims_once_and_its_leader_is_its_own(challenge, tree, users):
    outsider = f.MemberFactory(branch=tree.branch_b)
    with pytest.raises(ValidationError, match="leader"):
        services.challenge_claim(challenge=challenge, user=users.secretary, **pledge(tree.branch_a, outsider))
    services.challenge_claim(challenge=challenge, user=users.secretary, **pledge(tree.branch_a))
    with pytest.raises(ValidationError, match="already claimed"):
        services.challenge_claim(challenge=challenge, user=users.secretary, **pledge(tree.branch_a))


def test_a_closed_challenge_takes_no_claims(challenge, tree, users):
    services.challenge_close(challenge=challenge, user=users.committee)
    with pytest.raises(ValidationError, match="no more claims"):
        services.challenge_claim(challenge=challenge, user=users.secretary, **pledge(tree.branch_a))
