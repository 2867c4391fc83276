from decimal import Decimal

import pytest
from django.utils import timezone, translation

from branches.projects import services
from branches.projects.defaults import install_default_kinds
from branches.projects.models import ProjectKind
from tests import factories as f


@pytest.fixture(autouse=True)
def _english():
    # The assertions read the messages in their English source form.
    with translation.override("en"):
        yield


@pytest.fixture
def kinds(db):
    install_default_kinds()
    return {kind.name: kind for kind in ProjectKind.objects.filter(committee__isnull=True)}


@pytest.fixture
def teammate(tree):
    return f.MemberFactory(branch=tree.branch_a, group=tree.group_a2, name="张志强")


@pytest.fixture
def draft(tree, users, kinds, member_a):
    return services.project_create(
        branch=tree.branch_a,
        kind=kinds["党建攻关项目"],
        title="连铸坯质量攻关",
        field="quality",
        year=timezone.localdate().year,
        leader=member_a,
        budget=Decimal("20"),
        user=users.secretary,
    )


@pytest.fixture
def project(draft, users, teammate):
    """An approved project in progress, led by ``member_a`` with ``teammate`` on the team."""
    services.project_submit(project=draft, user=users.secretary)
    services.project_approve(project=draft, user=users.committee)
    services.project_member_add(project=draft, member=teammate, role="core", user=users.secretary)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def milestone(project, users):
    return services.milestone_add(project=project, title="完成工艺试验", due_on=timezone.localdate())
