"""seed_workbench: the administrator's panel has a login waiting for a role and a
report job in its history; both are gone after seed_demo --reset."""

import pytest
from django.contrib.auth import get_user_model

from branches.reports.models import ReportFile
from partybuild import workbench
from partybuild.demo import WAITING_USERNAME, seed_workbench
from partybuild.management.commands.seed_demo import DEMO_USERNAMES

pytestmark = pytest.mark.django_db


def test_the_admin_panel_of_the_demo_has_something_to_show(tree, users):
    seed_workbench(committee=tree.plant, staffer=users.committee)
    panel = workbench.admin_panel()
    assert WAITING_USERNAME in [u.username for u in panel.users_without_role]
    assert not get_user_model().objects.get(username=WAITING_USERNAME).has_usable_password()
    assert dict(panel.report_counts)[ReportFile.State.EXPIRED.label] == 1
    assert WAITING_USERNAME in DEMO_USERNAMES  # --reset removes it
