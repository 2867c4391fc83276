"""The requirements come from the rule-set version in force for the branch and month:
yearly requirements due in their month, a version 2 that changes the set from its month
on, the themed day's set day (and whether another day counts), each party group's own
meeting, and the matrix at a fixed number of queries however many versions.

The clock stands at 20 November 2025. PLANT (branches A with groups A1, A2, and B
without groups) gets its own rule set in most tests; OTHER (branch X) keeps the
installation default.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from branches.activities import services
from branches.activities.compliance import (
    Status,
    branch_month_compliance,
    compliance_matrix,
    compliant_branch_ids,
    group_meeting_compliance,
    year_months,
)
from branches.grading import services as grading
from branches.grading.models import BranchScore
from branches.models import OrgUnit
from branches.selectors import TRACKED_CACHE
from branches.services import committee_tracking_set
from members.ledger.models import MeetingRequirement, RuleSet, RuleSetVersion
from members.ledger.services import rule_version_for, rule_versions_by_month

from .. import factories as f

pytestmark = pytest.mark.django_db

D = datetime.date
JANUARY, FEBRUARY, MARCH, APRIL, MAY = (D(2025, m, 1) for m in range(1, 6))
OCTOBER = D(2025, 10, 1)

MONTHLY = [("committee_meeting", "monthly", False, None), ("themed_day", "monthly", False, None)]
# The committee's own scheme: 支委会 and 主题党日 every month, 组织生活会 by March.
BY_MARCH = [*MONTHLY, ("org_life_meeting", "yearly", False, 3)]


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime.datetime(2025, 11, 20, 10, 0))


def scheme(committee, number, month, requirements, **fields) -> RuleSetVersion:
    """A version of ``committee``'s own rule set from ``month`` with these requirements
    (kind, frequency, per group, due month)."""
    rule_set, _created = RuleSet.objects.get_or_create(committee=committee, defaults={"name": f"{committee.name}细则"})
    version = RuleSetVersion.objects.create(rule_set=rule_set, number=number, effective_month=month, **fields)
    MeetingRequirement.objects.bulk_create(
        MeetingRequirement(
            version=version, kind=kind, frequency=often, per_group=per_group, due_month=due, sort_order=i
        )
        for i, (kind, often, per_group, due) in enumerate(requirements)
    )
    return version


def log(branch, kind, day, *, group=None, title="活动"):
    return services.activity_create(branch=branch, kind=kind, title=title, date=day, group=group, user=None)


def statuses(branch, month, today=None):
    """{(kind, group code or None): status} for a branch's month."""
    return {
        (item.requirement.kind, item.group.code if item.group else None): item.status
        for item in branch_month_compliance(branch=branch, month=month, today=today or D(2025, 11, 20))
    }


def cell(branch, month):
    return compliance_matrix(branches=[branch], months=[month], today=D(2025, 11, 20))[(branch.pk, month)]


def grade(committee, month):
    run = grading.grading_run_request(committee=committee, month=month)
    grading.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    return run


# --- yearly requirements -------------------------------------------------------------


def test_a_yearly_requirement_due_in_march_and_missed_is_missing_in_march_only(tree):
    scheme(tree.plant, 1, JANUARY, BY_MARCH)
    log(tree.branch_b, "committee_meeting", D(2025, 3, 5))
    log(tree.branch_b, "themed_day", D(2025, 3, 21))
    assert statuses(tree.branch_b, MARCH) == {
        ("committee_meeting", None): Status.MET,
        ("themed_day", None): Status.MET,
        ("org_life_meeting", None): Status.MISSING,
    }
    march = cell(tree.branch_b, MARCH)
    assert (march.required, march.met, march.missing_labels) == (3, 2, ["组织生活会"])
    # Due in March: February and April (and December) do not ask for it.
    for month in (FEBRUARY, APRIL, D(2025, 12, 1)):
        assert ("org_life_meeting", None) not in statuses(tree.branch_b, month)


def test_the_missed_yearly_requirement_lowers_marchs_basics_in_a_grading_run(tree):
    scheme(tree.plant, 1, JANUARY, BY_MARCH)
    log(tree.branch_b, "committee_meeting", D(2025, 3, 5))
    log(tree.branch_b, "themed_day", D(2025, 3, 21))
    grade(tree.plant, MARCH)
    b = BranchScore.objects.get(branch=tree.branch_b, month=MARCH)
    # 支委会 and 主题党日 held, 组织生活会 not: 100 × 2 ÷ 3 = 66.67.
    assert (b.required, b.held, b.basics) == (3, 2, Decimal("66.67"))
    # Branch A held nothing; its groups owe nothing of their own under this scheme.
    a = BranchScore.objects.get(branch=tree.branch_a, month=MARCH)
    assert (a.required, a.held, a.basics) == (3, 0, Decimal("0.00"))
    # Held in February, it meets March's requirement: regraded, 100 × 3 ÷ 3.
    log(tree.branch_b, "org_life_meeting", D(2025, 2, 12))
    grade(tree.plant, MARCH)
    b = BranchScore.objects.get(branch=tree.branch_b, month=MARCH)
    assert (b.required, b.held, b.basics) == (3, 3, Decimal("100.00"))


def test_a_yearly_requirement_is_met_from_january_to_the_end_of_its_month_only(tree):
    scheme(tree.plant, 1, JANUARY, BY_MARCH)
    log(tree.branch_b, "org_life_meeting", D(2024, 12, 20))  # last year's
    log(tree.branch_b, "org_life_meeting", D(2025, 4, 1))  # too late
    assert statuses(tree.branch_b, MARCH)[("org_life_meeting", None)] == Status.MISSING
    last_day = log(tree.branch_b, "org_life_meeting", D(2025, 3, 31))
    january = log(tree.branch_b, "org_life_meeting", D(2025, 1, 1))
    [item] = [i for i in branch_month_compliance(branch=tree.branch_b, month=MARCH) if i.requirement.yearly]
    assert (item.status, item.activities) == (Status.MET, [january, last_day])
    with translation.override("en"):
        assert item.requirement.rule_note == "any time from January 2025 to March 2025"


def test_a_yearly_requirement_in_its_month_in_progress_is_not_yet_due(tree, time_machine):
    time_machine.move_to(datetime.datetime(2025, 3, 10, 10, 0))
    scheme(tree.plant, 1, JANUARY, BY_MARCH)
    assert statuses(tree.branch_b, MARCH, today=D(2025, 3, 10))[("org_life_meeting", None)] == Status.NOT_DUE
    assert cell(tree.branch_b, MARCH).state == "missing"  # judged from November: over


def test_the_default_requirements_ask_for_the_yearly_meetings_in_december(tree):
    log(tree.branch_x, "democratic_review", D(2025, 6, 3))
    december = statuses(tree.branch_x, D(2025, 12, 1), today=D(2026, 1, 2))
    assert (december[("org_life_meeting", None)], december[("democratic_review", None)]) == (
        Status.MISSING,
        Status.MET,
    )
    # 支委会, X1's 党小组会, 主题党日, 党员大会, 党课, and the two yearly ones.
    assert len(december) == 7
    assert ("democratic_review", None) not in statuses(tree.branch_x, D(2025, 11, 1))


# --- versions -------------------------------------------------------------------------------


def test_a_version_2_changes_the_requirements_from_its_month_on_only(tree):
    scheme(tree.plant, 1, JANUARY, BY_MARCH)
    # From May: 支委会, a 党小组会 per group and a 党课 every month; no 主题党日.
    scheme(
        tree.plant,
        2,
        MAY,
        [
            ("committee_meeting", "monthly", False, None),
            ("group_meeting", "monthly", True, None),
            ("party_lecture", "monthly", False, None),
        ],
    )
    log(tree.branch_a, "themed_day", D(2025, 4, 21))
    log(tree.branch_a, "themed_day", D(2025, 5, 21))
    log(tree.branch_a, "party_lecture", D(2025, 5, 9))
    log(tree.branch_a, "group_meeting", D(2025, 5, 9), group=tree.group_a2)
    assert statuses(tree.branch_a, APRIL) == {
        ("committee_meeting", None): Status.MISSING,
        ("themed_day", None): Status.MET,
    }
    assert statuses(tree.branch_a, MAY) == {
        ("committee_meeting", None): Status.MISSING,
        ("group_meeting", "A1"): Status.MISSING,
        ("group_meeting", "A2"): Status.MET,
        ("party_lecture", None): Status.MET,
    }
    cells = compliance_matrix(branches=[tree.branch_a, tree.branch_x], months=year_months(2025), today=D(2026, 1, 2))
    assert [cells[(tree.branch_a.pk, m)].required for m in year_months(2025)] == [2, 2, 3, 2] + [4] * 8
    # May's 主题党日 is required of nobody: it meets nothing.
    assert (cells[(tree.branch_a.pk, APRIL)].met, cells[(tree.branch_a.pk, MAY)].met) == (1, 2)
    # Branch X, under the other committee, keeps the default: 支委会, X1, 主题党日 (+ quarters, December).
    assert [cells[(tree.branch_x.pk, m)].required for m in year_months(2025)] == [3, 3, 5] * 3 + [3, 3, 7]


def test_the_versions_for_many_months_agree_with_rule_version_for(tree):
    scheme(tree.plant, 1, MARCH, MONTHLY)
    scheme(tree.plant, 2, D(2025, 8, 1), MONTHLY)
    scheme(tree.other, 1, D(2025, 6, 1), MONTHLY)
    units = [tree.branch_a, tree.branch_x, tree.group_a1, tree.plant, tree.root]
    months = [D(2024, 12, 1), *year_months(2025)]
    with CaptureQueriesContext(connection) as ctx:
        bulk = rule_versions_by_month(units=units, months=months)
    assert len(ctx.captured_queries) == 1  # the versions with their rule sets
    assert bulk == {(u.pk, m): rule_version_for(unit=u, month=m) for u in units for m in months}
    assert bulk[(tree.branch_a.pk, D(2025, 8, 1))].number == 2


# --- the themed day ----------------------------------------------------------------------


def themed_item(branch, month, version=None):
    [item] = [
        i
        for i in branch_month_compliance(branch=branch, month=month, version=version)
        if i.requirement.kind == "themed_day"
    ]
    return item


def test_a_themed_day_on_the_18th_counts_where_another_day_counts_and_says_it_was_not_on_the_day(tree):
    scheme(tree.plant, 1, JANUARY, MONTHLY)  # the defaults: the 21st, another day counts
    day = log(tree.branch_b, "themed_day", D(2025, 10, 18))
    item = themed_item(tree.branch_b, OCTOBER)
    assert (item.status, item.activities) == (Status.MET, [day])
    [line] = item.held
    assert (line.counts, line.off_day, line.set_day) == (True, True, 21)
    with translation.override("zh-hans"):
        assert line.note == "10月18日举行（规定为21日）"
        assert item.requirement.rule_note == "规定为21日，其他日期举行也计入"
    assert cell(tree.branch_b, OCTOBER).met == 1  # the themed day; no 支委会
    # On the day itself there is nothing to say.
    on_day = log(tree.branch_b, "themed_day", D(2025, 10, 21))
    assert [(h.activity, h.off_day, h.note) for h in themed_item(tree.branch_b, OCTOBER).held][1] == (
        on_day,
        False,
        "",
    )


def test_a_themed_day_on_the_18th_does_not_count_where_only_the_day_counts_and_says_why(tree):
    scheme(tree.plant, 1, JANUARY, MONTHLY, themed_day_elsewhere_counts=False)
    day = log(tree.branch_b, "themed_day", D(2025, 10, 18))
    item = themed_item(tree.branch_b, OCTOBER)
    assert (item.status, item.activities) == (Status.MISSING, [])
    [line] = item.not_counting
    assert (line.activity, line.counts, line.set_day) == (day, False, 21)
    with translation.override("zh-hans"):
        assert line.note == "10月18日举行，不在规定的21日，不计入"
        assert item.requirement.rule_note == "须在21日举行"
    assert (cell(tree.branch_b, OCTOBER).met, cell(tree.branch_b, OCTOBER).missing_labels) == (
        0,
        ["支委会", "主题党日"],
    )
    # One on the 21st counts.
    log(tree.branch_b, "themed_day", D(2025, 10, 21))
    assert themed_item(tree.branch_b, OCTOBER).status == Status.MET
    assert cell(tree.branch_b, OCTOBER).met == 1


def test_in_a_shorter_month_the_themed_day_is_its_last_day(tree):
    scheme(tree.plant, 1, JANUARY, MONTHLY, themed_day=31, themed_day_elsewhere_counts=False)
    log(tree.branch_b, "themed_day", D(2025, 2, 27))
    item = themed_item(tree.branch_b, FEBRUARY)
    assert (item.status, item.not_counting[0].set_day) == (Status.MISSING, 28)
    log(tree.branch_b, "themed_day", D(2025, 2, 28))
    assert themed_item(tree.branch_b, FEBRUARY).status == Status.MET
    assert cell(tree.branch_b, FEBRUARY).met == 1
    log(tree.branch_b, "themed_day", D(2025, 4, 30))  # April has 30 days
    assert themed_item(tree.branch_b, APRIL).status == Status.MET


def test_the_month_page_and_the_matrix_show_the_themed_day_held_on_another_day(tree, users, login):
    scheme(tree.plant, 1, JANUARY, MONTHLY)
    log(tree.branch_b, "themed_day", D(2025, 10, 18), title="十月主题党日")
    client = login(users.committee)
    html = client.get(reverse("activities:compliance_month", args=[tree.branch_b.pk, 2025, 10])).content.decode()
    assert 'class="requirement-met" data-kind="themed_day"' in html
    assert "held-off-day" in html and "10月18日举行（规定为21日）" in html
    matrix = client.get(reverse("activities:compliance_matrix", args=[tree.branch_b.pk]) + "?year=2025").content
    row = matrix.decode().split(f'data-branch="{tree.branch_b.pk}"')[1].split("</tr>")[0]
    [october] = [td for td in row.split("<td")[1:] if "/2025/10/" in td]
    assert 'data-off-day="1"' in october and "未在规定日期举行: 主题党日" in october
    assert '<span class="off-day-mark">*</span>' in october
    # September's, on the 21st, is not marked.
    log(tree.branch_b, "themed_day", D(2025, 9, 21))
    assert not cell(tree.branch_b, D(2025, 9, 1)).off_day_requirements


def test_the_month_page_lists_the_themed_day_that_does_not_count_with_the_reason(tree, users, login):
    scheme(tree.plant, 1, JANUARY, MONTHLY, themed_day_elsewhere_counts=False)
    day = log(tree.branch_b, "themed_day", D(2025, 10, 18), title="十月主题党日")
    url = reverse("activities:compliance_month", args=[tree.branch_b.pk, 2025, 10])
    html = login(users.committee).get(url).content.decode()
    assert 'class="requirement-missing table-danger" data-kind="themed_day"' in html
    assert f'held-not-counting text-muted" data-activity="{day.pk}"' in html
    assert "10月18日举行，不在规定的21日，不计入" in html
    assert "须在21日举行" in html


@pytest.mark.parametrize(
    ("elsewhere", "basics", "shown"),
    [
        (True, Decimal("100.00"), "10月18日举行（规定为21日）"),
        (False, Decimal("50.00"), "10月18日举行，不在规定的21日，不计入"),
    ],
)
def test_the_boards_basics_explanation_shows_the_themed_day_off_the_day(tree, users, login, elsewhere, basics, shown):
    scheme(tree.plant, 1, JANUARY, MONTHLY, themed_day_elsewhere_counts=elsewhere)
    log(tree.branch_b, "committee_meeting", D(2025, 10, 9))
    log(tree.branch_b, "themed_day", D(2025, 10, 18), title="十月主题党日")
    grade(tree.plant, OCTOBER)
    assert BranchScore.objects.get(branch=tree.branch_b, month=OCTOBER).basics == basics
    url = reverse("grading:explain_branch", args=[tree.plant.pk, 2025, 10, tree.branch_b.pk]) + "?draft=1"
    response = login(users.committee).get(url)
    assert response.status_code == 200
    basics_block = response.content.decode().split('id="basics"')[1].split("</section>")[0]
    assert shown in basics_block and "十月主题党日" in basics_block
    assert not response.context["x"].compliance_changed


# --- party groups -----------------------------------------------------------------------


def test_each_party_group_owes_its_own_meeting(tree):
    log(tree.branch_a, "group_meeting", D(2025, 10, 8), group=tree.group_a1)
    log(tree.branch_a, "group_meeting", D(2025, 10, 20), group=tree.group_a1)  # counts once
    log(tree.branch_a, "group_meeting", D(2025, 9, 30), group=tree.group_a2)  # September's
    late = f.group(tree.branch_b, code="B1", established_on=D(2025, 11, 3))
    gone = f.group(tree.branch_b, code="B2")
    OrgUnit.objects.filter(pk=gone.pk).update(dissolved_on=D(2025, 9, 1))
    gone.refresh_from_db()
    groups = [tree.group_a1, tree.group_a2, tree.group_x1, late, gone]
    assert group_meeting_compliance(groups=groups, month=OCTOBER) == {
        tree.group_a1.pk: (1, 1),
        tree.group_a2.pk: (1, 0),
        tree.group_x1.pk: (1, 0),
        late.pk: (0, 0),
        gone.pk: (0, 0),
    }
    # The same answer as the branch's own requirements.
    items = branch_month_compliance(branch=tree.branch_a, month=OCTOBER)
    assert [(i.group, i.status) for i in items if i.group] == [
        (tree.group_a1, Status.MET),
        (tree.group_a2, Status.MISSING),
    ]


def test_a_group_owes_nothing_of_its_own_where_the_version_asks_for_one_meeting_per_branch(tree):
    scheme(tree.plant, 1, JANUARY, [("group_meeting", "monthly", False, None)])
    log(tree.branch_a, "group_meeting", D(2025, 10, 8), group=tree.group_a2)
    result = group_meeting_compliance(groups=[tree.group_a1, tree.group_x1], month=OCTOBER)
    assert result == {tree.group_a1.pk: (0, 0), tree.group_x1.pk: (1, 0)}
    # The branch's single requirement is met by any of its groups' meetings.
    assert statuses(tree.branch_a, OCTOBER) == {("group_meeting", None): Status.MET}


def test_a_group_owes_nothing_in_a_month_not_tracked(tree):
    committee_tracking_set(committee=tree.plant, tracked_from=D(2025, 11, 1))
    tree.group_a1.refresh_from_db()
    assert group_meeting_compliance(groups=[tree.group_a1], month=OCTOBER) == {tree.group_a1.pk: (0, 0)}


def test_group_compliance_reads_a_fixed_number_of_queries(tree):
    def queries(groups):
        with CaptureQueriesContext(connection) as ctx:
            group_meeting_compliance(groups=groups, month=OCTOBER)
        return len(ctx.captured_queries)

    few = queries([tree.group_a1, tree.group_x1])
    scheme(tree.plant, 1, JANUARY, [("group_meeting", "monthly", True, None)])
    more = [f.group(tree.branch_b, code=f"G{i}") for i in range(12)]
    for group in more[:4]:
        log(tree.branch_b, "group_meeting", D(2025, 10, 3), group=group)
    fresh = list(OrgUnit.objects.filter(pk__in=[tree.group_a1.pk, tree.group_x1.pk, *(g.pk for g in more)]))
    assert queries(fresh) == few == 4


# --- the matrix -----------------------------------------------------------------------------


def test_the_matrix_agrees_with_the_branch_month_detail_under_versions(tree):
    scheme(tree.plant, 1, JANUARY, BY_MARCH, themed_day_elsewhere_counts=False)
    scheme(
        tree.plant,
        2,
        D(2025, 7, 1),
        [*MONTHLY, ("group_meeting", "monthly", True, None), ("general_meeting", "quarterly", False, None)],
        themed_day=10,
    )
    for branch in (tree.branch_a, tree.branch_b, tree.branch_x):
        log(branch, "themed_day", D(2025, 2, 21))
        log(branch, "themed_day", D(2025, 3, 20))
        log(branch, "org_life_meeting", D(2025, 3, 2))
        log(branch, "themed_day", D(2025, 8, 11))
        log(branch, "general_meeting", D(2025, 7, 11))
    log(tree.branch_a, "group_meeting", D(2025, 8, 1), group=tree.group_a1)
    today = D(2025, 11, 20)
    branches = [tree.branch_a, tree.branch_b, tree.branch_x]
    cells = compliance_matrix(branches=branches, months=year_months(2025), today=today)
    for branch in branches:
        for month in year_months(2025):
            items = branch_month_compliance(branch=branch, month=month, today=today)
            counted = [sum(1 for i in items if i.status == s) for s in (Status.MET, Status.MISSING, Status.NOT_DUE)]
            found = cells[(branch.pk, month)]
            assert [found.met, found.missing, found.not_due] == counted, (branch, month)
            assert found.required == len(items)
            assert len(found.off_day_requirements) == sum(1 for i in items if i.only_off_day), (branch, month)
    # Branch B: February's on the 21st counts, March's on the 20th does not; August's
    # on the 11th counts under version 2 (another day counts again, the 10th set).
    b = [cells[(tree.branch_b.pk, m)].met for m in (FEBRUARY, MARCH, D(2025, 8, 1), D(2025, 9, 1))]
    assert b == [1, 1, 1, 1]  # March: the 组织生活会; September: the quarter's 党员大会
    august = cells[(tree.branch_b.pk, D(2025, 8, 1))]
    assert august.off_day_labels == ["主题党日"]


def test_the_summary_counts_the_branches_whose_cells_are_all_compliant(tree):
    scheme(tree.plant, 1, JANUARY, BY_MARCH, themed_day_elsewhere_counts=False)
    scheme(tree.plant, 2, D(2025, 7, 1), [*MONTHLY, ("group_meeting", "monthly", True, None)], themed_day=10)
    for month in range(1, 11):  # to October: nothing may be logged ahead
        log(tree.branch_a, "themed_day", D(2025, month, 21 if month < 7 else 10))
        log(tree.branch_a, "group_meeting", D(2025, month, 3), group=tree.group_a1)
        log(tree.branch_a, "group_meeting", D(2025, month, 3), group=tree.group_a2)
        log(tree.branch_b, "themed_day", D(2025, month, 21 if month < 7 else 10))
        for branch in (tree.branch_a, tree.branch_b) if month != 8 else (tree.branch_a,):
            log(branch, "committee_meeting", D(2025, month, 5))
    log(tree.branch_a, "org_life_meeting", D(2025, 3, 2))
    log(tree.branch_b, "org_life_meeting", D(2025, 3, 2))
    branches = [tree.branch_a, tree.branch_b, tree.branch_x]
    for today in (D(2025, 11, 20), D(2026, 1, 2), D(2025, 2, 1)):
        cells = compliance_matrix(branches=branches, months=year_months(2025), today=today)
        expected = {b.pk for b in branches if all(cells[(b.pk, m)].is_compliant for m in year_months(2025))}
        assert compliant_branch_ids(branches=branches, months=year_months(2025), today=today) == expected, today
    # Branch A met everything; B held no 支委会 in August, X held nothing.
    assert compliant_branch_ids(branches=branches, months=year_months(2025), today=D(2025, 11, 20)) == {
        tree.branch_a.pk
    }


def test_the_matrix_query_count_stays_fixed_with_versions_branches_and_months(tree):
    def queries(branches, months):
        for branch in branches:  # as a page loads them: nothing cached on the objects
            branch.__dict__.pop(TRACKED_CACHE, None)
        with CaptureQueriesContext(connection) as ctx:
            compliance_matrix(branches=branches, months=months, today=D(2025, 11, 20))
        return len(ctx.captured_queries)

    few = queries([tree.branch_a], [OCTOBER])
    scheme(tree.plant, 1, JANUARY, BY_MARCH)
    scheme(tree.plant, 2, MAY, [*MONTHLY, ("group_meeting", "monthly", True, None)])
    scheme(tree.other, 1, D(2025, 8, 1), MONTHLY, themed_day_elsewhere_counts=False)
    many = [f.branch(tree.plant if i % 2 else tree.other, code=f"V{i}") for i in range(16)]
    for i, branch in enumerate(many[:6]):
        group = f.group(branch, code=f"VG{i}")
        log(branch, "group_meeting", D(2025, 1 + i, 3), group=group)
        log(branch, "themed_day", D(2025, 1 + i, 18))
        log(branch, "org_life_meeting", D(2025, 2, 3 + i))
    branches = list(OrgUnit.objects.filter(kind="branch"))
    assert queries(branches, year_months(2024) + year_months(2025)) == few == 5
