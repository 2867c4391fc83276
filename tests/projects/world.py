"""One of everything of the projects app in branch A of PLANT, for the shared walks
(tests/test_crawl.py, tests/views/test_url_params.py): a project in progress with its
team, a target, an accepted milestone, a value record with evidence; a concluded one;
a challenge with a claim."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.projects import services
from branches.projects.defaults import install_default_kinds
from branches.projects.models import ProjectKind
from tests import factories as f

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def project_world(tree, users, member_a) -> SimpleNamespace:
    install_default_kinds()
    kind = ProjectKind.objects.get(committee__isnull=True, name="党建攻关项目")
    today = timezone.localdate()
    teammate = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1, name="项目骨干")
    project = services.project_create(
        branch=tree.branch_a,
        kind=kind,
        title="铁水预处理攻关",
        field="process",
        year=today.year,
        leader=member_a,
        co_branches=[tree.branch_b],
        user=users.secretary,
    )
    services.project_submit(project=project, user=users.secretary)
    services.project_approve(project=project, user=users.committee)
    team = services.project_member_add(project=project, member=teammate, role="core", user=users.secretary)
    services.project_target_add(
        project=project, metric="脱硫率", unit="%", baseline=Decimal("90"), target=Decimal("95")
    )
    milestone = services.milestone_add(project=project, title="工艺试验", due_on=today)
    services.milestone_accept(milestone=milestone, user=users.committee)
    services.milestone_add(project=project, title="推广应用", due_on=today - datetime.timedelta(days=1))
    record, _ = services.value_record_add(
        project=project,
        month=today.replace(day=1),
        amount=Decimal("12"),
        user=users.secretary,
        evidence=SimpleUploadedFile("创效证明.pdf", PDF, content_type="application/pdf"),
    )
    concluded = services.project_create(
        branch=tree.branch_a,
        kind=kind,
        title="设备点检优化",
        field="equipment",
        year=today.year,
        leader=member_a,
        user=users.secretary,
    )
    services.project_submit(project=concluded, user=users.secretary)
    services.project_approve(project=concluded, user=users.committee)
    services.project_conclude(project=concluded, user=users.secretary, results="点检效率提升")
    challenge = services.challenge_post(
        committee=tree.plant,
        kind=kind,
        title="钢包寿命攻关",
        description="提高钢包寿命",
        deadline=today + datetime.timedelta(days=30),
        user=users.committee,
    )
    claim = services.challenge_claim(
        challenge=challenge,
        branch=tree.branch_a,
        pledge="半年内寿命提高20%",
        pledge_by=today + datetime.timedelta(days=180),
        user=users.secretary,
    )
    return SimpleNamespace(
        project=project,
        concluded=concluded,
        team=team,
        milestone=milestone,
        record=record,
        challenge=challenge,
        claim=claim,
    )
