"""Writes for projects and challenges. Every move claims its from-state with a
conditional UPDATE (``branches.workflow.claim``), writes a ``ProjectTransition`` and
posts or reverses its points through the ledger in the same transaction. Services do
not ask who the user is: the views check rights through ``access.py``."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.downloads import shorten_filename
from branches.models import OrgUnit
from branches.selectors import committee_for
from branches.services import month_assert_open, month_label
from branches.uploads import check_upload
from branches.workflow import Move, claim, move_named, refuse
from members.ledger.models import LedgerEntry, Rule, Source
from members.ledger.services import (
    SourcePosting,
    first_of_month,
    ledger_post_source,
    ledger_reverse_sources,
    rule_version_for,
)
from members.models import Member

from .models import (
    Challenge,
    ChallengeClaim,
    Milestone,
    Project,
    ProjectKind,
    ProjectMember,
    ProjectSettings,
    ProjectTarget,
    ProjectTransition,
    ValueRecord,
)
from .workflow import CHALLENGE_MOVES, EDITABLE, MILESTONE_MOVES, PICK, PROJECT_MOVES, RUNNING

GRADE_CODES = {1: "project_grade_1", 2: "project_grade_2", 3: "project_grade_3"}
MILESTONE_CODE = "project_milestone"
VALUE_PREFIX = "project_value_"


def _this_month() -> datetime.date:
    return first_of_month(timezone.localdate())


def project_people(*, project: Project) -> list[Member]:
    """Who a project's points go to: its leader and its members still in the Party."""
    people = [pm.member for pm in project.members.select_related("member__branch")]
    if project.leader_id:
        people.insert(0, Member.objects.select_related("branch").get(pk=project.leader_id))
    return [m for m in {m.pk: m for m in people}.values() if m.is_active]


def _record(project: Project, move: Move, *, user, reason: str = "", from_state: str, milestone=None) -> None:
    ProjectTransition.objects.create(
        project=project,
        milestone=milestone,
        move=move.name,
        from_state=from_state,
        to_state=move.target,
        reason=reason,
        user=user,
    )


def _move_project(project: Project, name: str, *, user, reason: str = "", **changes) -> None:
    move = move_named(PROJECT_MOVES, name)
    from_state = project.state if project.state in move.sources else move.sources[0]
    if not claim(Project.objects, project.pk, move, **changes):
        current = Project.objects.values_list("state", flat=True).get(pk=project.pk)
        raise refuse(move, Project.State(current).label)
    project.state = move.target
    for key, value in changes.items():
        setattr(project, key, value)
    _record(project, move, user=user, reason=reason, from_state=from_state)


def _move_milestone(milestone: Milestone, name: str, *, user, reason: str = "", **changes) -> None:
    move = move_named(MILESTONE_MOVES, name)
    project = milestone.project
    if project.state not in RUNNING:
        raise ValidationError(
            _("%(move)s is not possible now: the project is %(state)s.")
            % {"move": move.label, "state": project.get_state_display()}
        )
    from_state = milestone.state if milestone.state in move.sources else move.sources[0]
    if not claim(Milestone.objects, milestone.pk, move, **changes):
        current = Milestone.objects.values_list("state", flat=True).get(pk=milestone.pk)
        raise refuse(move, Milestone.State(current).label)
    milestone.state = move.target
    for key, value in changes.items():
        setattr(milestone, key, value)
    _record(project, move, user=user, reason=reason, from_state=from_state, milestone=milestone)


# --- the application ---------------------------------------------------------------------


def _check_people(*, branch: OrgUnit, co_branches: list[OrgUnit], leader: Member | None) -> None:
    if not branch.is_branch:
        raise ValidationError({"branch": _("A project is led by a branch.")})
    if any(not co.is_branch or co.pk == branch.pk for co in co_branches):
        raise ValidationError({"co_branches": _("Co-operating branches are other branches.")})
    if leader is not None:
        allowed = {branch.pk, *(co.pk for co in co_branches)}
        if leader.branch_id not in allowed:
            raise ValidationError({"leader": _("The leader must belong to the lead or a co-operating branch.")})
        if not leader.is_active:
            raise ValidationError({"leader": _("%(member)s has left.") % {"member": leader.name}})


def _check_kind(kind: ProjectKind, committee: OrgUnit) -> None:
    if kind.committee_id is not None and kind.committee_id not in {committee.pk, *committee.ancestor_ids()}:
        raise ValidationError({"kind": _("This kind belongs to another committee.")})


@transaction.atomic
def project_create(
    *,
    branch: OrgUnit,
    kind: ProjectKind,
    title: str,
    field: str,
    year: int,
    user: AbstractBaseUser | None,
    description: str = "",
    leader: Member | None = None,
    co_branches: list[OrgUnit] | None = None,
    budget: Decimal | None = None,
    reward: Decimal | None = None,
) -> Project:
    """A branch's application (申报), as a draft until it is submitted."""
    co_branches = list(co_branches or [])
    _check_people(branch=branch, co_branches=co_branches, leader=leader)
    committee = committee_for(unit=branch)
    if committee is None:
        raise ValidationError({"branch": _("This branch has no party committee to approve its projects.")})
    _check_kind(kind, committee)
    project = Project.objects.create(
        committee=committee,
        kind=kind,
        title=title.strip(),
        description=description,
        branch=branch,
        leader=leader,
        field=field,
        year=year,
        budget=budget,
        reward=reward,
        created_by=user,
    )
    project.co_branches.set(co_branches)
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    kind: ProjectKind,
    title: str,
    field: str,
    year: int,
    user: AbstractBaseUser | None,
    description: str = "",
    leader: Member | None = None,
    co_branches: list[OrgUnit] | None = None,
    budget: Decimal | None = None,
    reward: Decimal | None = None,
    branch: OrgUnit | None = None,
) -> Project:
    """Change the application while it is a draft or returned (the lead branch stays)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.state not in EDITABLE:
        raise ValidationError(
            _("The application can be changed only as a draft or when returned; the project is %(state)s.")
            % {"state": project.get_state_display()}
        )
    co_branches = list(co_branches or [])
    _check_people(branch=project.branch, co_branches=co_branches, leader=leader)
    _check_kind(kind, project.committee)
    for name, value in {
        "kind": kind,
        "title": title.strip(),
        "description": description,
        "leader": leader,
        "field": field,
        "year": year,
        "budget": budget,
        "reward": reward,
    }.items():
        setattr(project, name, value)
    project.save()
    project.co_branches.set(co_branches)
    return project


@transaction.atomic
def project_submit(*, project: Project, user: AbstractBaseUser | None) -> Project:
    if project.leader_id is None:
        raise ValidationError(_("Name the project's leader before submitting it."))
    _move_project(project, "submit", user=user)
    return project


@transaction.atomic
def project_approve(*, project: Project, user: AbstractBaseUser | None, reason: str = "") -> Project:
    _move_project(project, "approve", user=user, reason=reason.strip())
    return project


@transaction.atomic
def project_return(*, project: Project, user: AbstractBaseUser | None, reason: str) -> Project:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the application is returned.")})
    _move_project(project, "return", user=user, reason=reason.strip())
    return project


@transaction.atomic
def project_conclude(*, project: Project, user: AbstractBaseUser | None, results: str) -> Project:
    """结题: the project ends with its results written down."""
    if not results.strip():
        raise ValidationError({"results": _("Write down the results.")})
    _move_project(project, "conclude", user=user, reason=results.strip(), results=results.strip())
    return project


def grade_names(*, committee: OrgUnit) -> dict[int, str]:
    settings = ProjectSettings.objects.filter(committee=committee).first()
    return settings.grade_names() if settings else ProjectSettings().grade_names()


@transaction.atomic
def project_evaluate(*, project: Project, user: AbstractBaseUser | None, grade: int) -> SourcePosting:
    """The committee's year-end grade; posts that grade's rule to the leader and members
    in the current month (key ``grade``)."""
    if grade not in GRADE_CODES:
        raise ValidationError({"grade": _("Choose one of the three grades.")})
    _move_project(project, "evaluate", user=user, reason=grade_names(committee=project.committee)[grade], grade=grade)
    return ledger_post_source(
        members=project_people(project=project),
        code=GRADE_CODES[grade],
        month=_this_month(),
        source=Source.PROJECT,
        source_id=project.pk,
        source_key="grade",
        reason=_("Project %(project)s evaluated: %(grade)s")
        % {"project": project.title, "grade": grade_names(committee=project.committee)[grade]},
        user=user,
    )


@transaction.atomic
def project_evaluation_withdraw(*, project: Project, user: AbstractBaseUser | None, reason: str) -> int:
    """Undo the grade: reverses exactly the entries the grade posted."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the grade is withdrawn.")})
    _move_project(project, "unevaluate", user=user, reason=reason.strip(), grade=None)
    return ledger_reverse_sources(
        source=Source.PROJECT, source_ids=[project.pk], source_key="grade", reason=reason.strip(), user=user
    )


# --- people, targets, milestones -------------------------------------------------------


@transaction.atomic
def project_member_add(*, project: Project, member: Member, role: str, user: AbstractBaseUser | None) -> ProjectMember:
    if project.state in (Project.State.CONCLUDED, Project.State.EVALUATED):
        raise ValidationError(_("The project is concluded: its team no longer changes."))
    allowed = {project.branch_id, *project.co_branches.values_list("pk", flat=True)}
    if member.branch_id not in allowed:
        raise ValidationError({"member": _("Members come from the lead or a co-operating branch.")})
    if not member.is_active:
        raise ValidationError({"member": _("%(member)s has left.") % {"member": member.name}})
    if member.pk == project.leader_id or project.members.filter(member=member).exists():
        raise ValidationError({"member": _("%(member)s is already on the team.") % {"member": member.name}})
    return ProjectMember.objects.create(project=project, member=member, role=role)


@transaction.atomic
def project_member_remove(*, project_member: ProjectMember, user: AbstractBaseUser | None) -> None:
    if project_member.project.state in (Project.State.CONCLUDED, Project.State.EVALUATED):
        raise ValidationError(_("The project is concluded: its team no longer changes."))
    project_member.delete()


@transaction.atomic
def project_target_add(
    *,
    project: Project,
    metric: str,
    baseline: Decimal,
    target: Decimal,
    unit: str = "",
    stretch: Decimal | None = None,
    user: AbstractBaseUser | None = None,
) -> ProjectTarget:
    if project.state in (Project.State.CONCLUDED, Project.State.EVALUATED):
        raise ValidationError(_("The project is concluded: its targets no longer change."))
    return ProjectTarget.objects.create(
        project=project, metric=metric.strip(), unit=unit.strip(), baseline=baseline, target=target, stretch=stretch
    )


@transaction.atomic
def milestone_add(
    *, project: Project, title: str, due_on: datetime.date, user: AbstractBaseUser | None = None
) -> Milestone:
    if project.state in (Project.State.CONCLUDED, Project.State.EVALUATED):
        raise ValidationError(_("The project is concluded: no more milestones."))
    return Milestone.objects.create(project=project, title=title.strip(), due_on=due_on)


@transaction.atomic
def milestone_submit(*, milestone: Milestone, user: AbstractBaseUser | None) -> Milestone:
    _move_milestone(milestone, "milestone_submit", user=user)
    return milestone


@transaction.atomic
def milestone_accept(*, milestone: Milestone, user: AbstractBaseUser | None, reason: str = "") -> SourcePosting:
    """Accept a milestone: ``project_milestone`` to the leader and members in the
    current month, keyed ``milestone:<id>`` so a withdrawal reverses exactly these."""
    _move_milestone(
        milestone, "milestone_accept", user=user, reason=reason.strip(), accepted_by=user, accepted_at=timezone.now()
    )
    project = milestone.project
    return ledger_post_source(
        members=project_people(project=project),
        code=MILESTONE_CODE,
        month=_this_month(),
        source=Source.PROJECT,
        source_id=project.pk,
        source_key=milestone.source_key,
        reason=_("Project %(project)s: milestone %(milestone)s accepted")
        % {"project": project.title, "milestone": milestone.title},
        user=user,
    )


@transaction.atomic
def milestone_return(*, milestone: Milestone, user: AbstractBaseUser | None, reason: str) -> Milestone:
    if not reason.strip():
        raise ValidationError({"reason": _("Say what is missing.")})
    _move_milestone(milestone, "milestone_return", user=user, reason=reason.strip())
    return milestone


@transaction.atomic
def milestone_withdraw(*, milestone: Milestone, user: AbstractBaseUser | None, reason: str) -> int:
    """Withdraw an acceptance: reverses the entries that acceptance posted, and only
    those (a closed month refuses, naming the month)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the acceptance is withdrawn.")})
    _move_milestone(
        milestone, "milestone_withdraw", user=user, reason=reason.strip(), accepted_by=None, accepted_at=None
    )
    return ledger_reverse_sources(
        source=Source.PROJECT,
        source_ids=[milestone.project_id],
        source_key=milestone.source_key,
        reason=reason.strip(),
        user=user,
    )


# --- value created ----------------------------------------------------------------------


def _value_bands(*, project: Project, month: datetime.date) -> list[Rule]:
    """The value-band rules of the version in force for the lead branch, lowest first."""
    version = rule_version_for(unit=project.branch, month=month)
    return list(
        Rule.objects.filter(version=version, code__startswith=VALUE_PREFIX, threshold__isnull=False).order_by(
            "threshold"
        )
    )


@transaction.atomic
def value_record_add(
    *,
    project: Project,
    month: datetime.date,
    amount: Decimal,
    user: AbstractBaseUser | None,
    progress: str = "",
    evidence: UploadedFile | None = None,
) -> tuple[ValueRecord, list[SourcePosting]]:
    """Value created in a month (万元) with its evidence. When the project's total
    crosses a band's threshold (``Rule.threshold``), that band's rule is posted to the
    leader and members in this month — once per band per project (key ``value:<code>``)."""
    month = first_of_month(month)
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.state not in RUNNING:
        raise ValidationError(
            _("Value is recorded while the project is in progress; it is %(state)s.")
            % {"state": project.get_state_display()}
        )
    if month > _this_month():
        raise ValidationError(
            {
                "month": _("Value is recorded for this month or earlier, not for %(month)s.")
                % {"month": month_label(month)}
            }
        )
    if amount < 0:
        raise ValidationError({"amount": _("Value created is not negative.")})
    month_assert_open(unit=project.branch, month=month)
    if ValueRecord.objects.filter(project=project, month=month).exists():
        raise ValidationError({"month": _("%(month)s is already recorded.") % {"month": month_label(month)}})
    name, content_type = "", ""
    if evidence:
        try:
            content_type = check_upload(evidence)
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages}) from None
        name = shorten_filename(evidence.name or "", ValueRecord._meta.get_field("evidence_name").max_length)
    record = ValueRecord.objects.create(
        project=project,
        month=month,
        amount=amount,
        progress=progress.strip(),
        evidence=evidence or "",
        evidence_name=name,
        evidence_type=content_type,
        recorded_by=user,
    )
    total = ValueRecord.objects.filter(project=project).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    posted_keys = set(
        LedgerEntry.objects.filter(
            source=Source.PROJECT, source_id=project.pk, source_key__startswith="value:", reverses__isnull=True
        ).values_list("source_key", flat=True)
    )
    postings = []
    people = None
    for band in _value_bands(project=project, month=month):
        key = f"value:{band.code}"
        if band.threshold > total or key in posted_keys:
            continue
        people = people if people is not None else project_people(project=project)
        postings.append(
            ledger_post_source(
                members=people,
                code=band.code,
                month=month,
                source=Source.PROJECT,
                source_id=project.pk,
                source_key=key,
                reason=_("Project %(project)s has created %(total)s (10,000 yuan)")
                % {"project": project.title, "total": total},
                user=user,
            )
        )
    return record, postings


# --- challenges (揭榜) --------------------------------------------------------------------


@transaction.atomic
def challenge_post(
    *,
    committee: OrgUnit,
    kind: ProjectKind,
    title: str,
    description: str,
    deadline: datetime.date,
    user: AbstractBaseUser | None,
    field: str = "other",
    targets: str = "",
    reward: Decimal | None = None,
) -> Challenge:
    if not committee.is_committee:
        raise ValidationError(_("Challenges are posted by a party committee."))
    _check_kind(kind, committee)
    if deadline < timezone.localdate():
        raise ValidationError({"deadline": _("The deadline for claims is in the past.")})
    return Challenge.objects.create(
        committee=committee,
        kind=kind,
        field=field,
        title=title.strip(),
        description=description,
        targets=targets,
        deadline=deadline,
        reward=reward,
        posted_by=user,
    )


@transaction.atomic
def challenge_claim(
    *,
    challenge: Challenge,
    branch: OrgUnit,
    pledge: str,
    pledge_by: datetime.date,
    user: AbstractBaseUser | None,
    leader: Member | None = None,
) -> ChallengeClaim:
    """A branch (its secretary, naming a member as leader if a member claims) claims
    the challenge with a pledge (军令状: what, by when)."""
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    if challenge.state != Challenge.State.OPEN:
        raise ValidationError(
            _("The challenge is %(state)s: it takes no more claims.") % {"state": challenge.get_state_display()}
        )
    if challenge.deadline < timezone.localdate():
        raise ValidationError(_("Claims closed on %(date)s.") % {"date": challenge.deadline.isoformat()})
    if not branch.is_branch or not branch.path.startswith(challenge.committee.path):
        raise ValidationError(
            {"branch": _("Branches of %(committee)s claim this challenge.") % {"committee": challenge.committee.name}}
        )
    if leader is not None and (leader.branch_id != branch.pk or not leader.is_active):
        raise ValidationError({"leader": _("The leader must be a member of the claiming branch.")})
    if not pledge.strip():
        raise ValidationError({"pledge": _("Write down the pledge.")})
    if pledge_by < timezone.localdate():
        raise ValidationError({"pledge_by": _("The pledge is for a date to come.")})
    if ChallengeClaim.objects.filter(challenge=challenge, branch=branch).exists():
        raise ValidationError({"branch": _("%(branch)s has already claimed this challenge.") % {"branch": branch.name}})
    return ChallengeClaim.objects.create(
        challenge=challenge, branch=branch, leader=leader, pledge=pledge.strip(), pledge_by=pledge_by, claimed_by=user
    )


@transaction.atomic
def challenge_pick(*, claim_row: ChallengeClaim, user: AbstractBaseUser | None) -> Project:
    """The committee picks one claim: the challenge is awarded, the other claims closed,
    and the project starts in progress with the claimant's branch and leader."""
    challenge = claim_row.challenge
    move = move_named(CHALLENGE_MOVES, "award")
    if not claim(Challenge.objects, challenge.pk, move):
        current = Challenge.objects.values_list("state", flat=True).get(pk=challenge.pk)
        raise refuse(move, Challenge.State(current).label)
    ChallengeClaim.objects.filter(pk=claim_row.pk).update(state=ChallengeClaim.State.PICKED)
    ChallengeClaim.objects.filter(challenge=challenge).exclude(pk=claim_row.pk).update(
        state=ChallengeClaim.State.CLOSED
    )
    committee = committee_for(unit=claim_row.branch)
    project = Project.objects.create(
        committee=committee,
        kind=challenge.kind,
        title=challenge.title,
        description="\n\n".join(part for part in (challenge.description, challenge.targets) if part),
        branch=claim_row.branch,
        leader=claim_row.leader,
        field=challenge.field,
        year=claim_row.pledge_by.year,
        reward=challenge.reward,
        state=Project.State.ACTIVE,
        challenge=challenge,
        created_by=user,
    )
    _record(project, PICK, user=user, reason=claim_row.pledge, from_state="")
    return project


@transaction.atomic
def challenge_close(*, challenge: Challenge, user: AbstractBaseUser | None) -> Challenge:
    move = move_named(CHALLENGE_MOVES, "close")
    if not claim(Challenge.objects, challenge.pk, move):
        current = Challenge.objects.values_list("state", flat=True).get(pk=challenge.pk)
        raise refuse(move, Challenge.State(current).label)
    ChallengeClaim.objects.filter(challenge=challenge).update(state=ChallengeClaim.State.CLOSED)
    challenge.state = move.target
    return challenge


# --- the committee's list of kinds and grade names --------------------------------------------


@transaction.atomic
def project_kind_add(*, committee: OrgUnit, name: str, user: AbstractBaseUser | None = None) -> ProjectKind:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the kind a name.")})
    if ProjectKind.objects.filter(Q(committee__isnull=True) | Q(committee=committee), name=name).exists():
        raise ValidationError({"name": _("%(name)s is already a kind.") % {"name": name}})
    return ProjectKind.objects.create(committee=committee, name=name, sort_order=100)


@transaction.atomic
def project_grade_names_set(
    *, committee: OrgUnit, grade_1_name: str, grade_2_name: str, grade_3_name: str, user: AbstractBaseUser | None = None
) -> ProjectSettings:
    names = [n.strip() for n in (grade_1_name, grade_2_name, grade_3_name)]
    if not all(names) or len(set(names)) != 3:
        raise ValidationError(_("Give the three grades three different names."))
    settings, _created = ProjectSettings.objects.update_or_create(
        committee=committee,
        defaults={"grade_1_name": names[0], "grade_2_name": names[1], "grade_3_name": names[2]},
    )
    return settings
