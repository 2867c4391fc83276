import datetime
from types import SimpleNamespace

import pytest

from members.commitments import services
from members.commitments.models import Field
from tests import factories as f

YEAR = 2025
JUNE = datetime.date(YEAR, 6, 1)
DECEMBER = datetime.date(YEAR, 12, 1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def branch_year(tree, member_a):
    """Branch A in 2025: three members, a safety template given to all, a personal
    commitment and the branch's own."""
    others = [f.MemberFactory(branch=tree.branch_a, group=tree.group_a2) for _ in range(2)]
    template = services.commitment_template_create(
        branch=tree.branch_a,
        year=YEAR,
        text="全年安全生产零违章",
        field=Field.SAFETY,
        target_text="零违章",
        due_on=datetime.date(YEAR, 12, 31),
        user=None,
    )
    services.commitment_template_give(template=template, user=None, on_date=datetime.date(YEAR, 1, 10))
    personal = services.commitment_create(
        branch=tree.branch_a,
        year=YEAR,
        member=member_a,
        text="带好两名青工",
        field=Field.PRODUCTION,
        target_value=2,
        target_unit="名",
        milestones=[("上半年完成一名", datetime.date(YEAR, 6, 30))],
        user=None,
    )
    own = services.commitment_create(
        branch=tree.branch_a, year=YEAR, member=None, text="支部全年无安全事故", field=Field.SAFETY, user=None
    )
    return SimpleNamespace(members=[member_a, *others], template=template, personal=personal, own=own)
