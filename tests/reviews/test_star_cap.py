"""A 不合格 result in a confirmed review caps the member's annual stars (the version's
``review_unqualified_stars``, ★1 by default): on the annual page, in the year-end
workbook and in the branch's dossier — values checked against the database."""

import pytest
from django.urls import reverse

from branches.grading import annual
from branches.reports.pdf import branch_dossier_html
from members.ledger.models import RuleSetVersion
from members.reviews import services
from members.reviews.models import Rating
from members.reviews.selectors import confirmed_ratings
from tests.reports.test_xlsx import export, month, publish, rows_by

from . import factories as rf

pytestmark = pytest.mark.django_db
YEAR = rf.YEAR
REVIEW_COLUMN = 15  # after the honours: 民主评议


@pytest.fixture
def year(tree, member_a):
    """Twelve published months of 30.00 for member_a and a colleague: ★5 by the year
    bands (360 = 12 × 30); member_a rated 不合格 in the confirmed review, the colleague 合格."""
    colleague = rf.members(tree.branch_a, 1)[0]
    for n in range(1, 13):
        publish(
            tree.plant,
            month(n),
            [(tree.branch_a, "80", 1)],
            [(member_a, tree.branch_a, {"total": "30"}), (colleague, tree.branch_a, {"total": "30"})],
        )
    review = rf.confirmed_review(tree.branch_a, {member_a: Rating.UNQUALIFIED})
    return {"review": review, "colleague": colleague}


def stars(tree) -> dict[int, dict]:
    return {row["member_id"]: row for row in annual.member_annual_stars(committee=tree.plant, year=YEAR)}


def test_an_unqualified_member_keeps_one_star_and_the_row_says_it_was_capped(tree, member_a, year):
    rows = stars(tree)
    assert (rows[member_a.pk]["banded_stars"], rows[member_a.pk]["stars"], rows[member_a.pk]["capped"]) == (5, 1, True)
    colleague = rows[year["colleague"].pk]
    assert (colleague["stars"], colleague["capped"]) == (5, False)


def test_the_cap_is_the_rule_sets_and_only_a_confirmed_review_counts(tree, member_a, year, users):
    version = annual.annual_version(committee=tree.plant, year=YEAR)
    RuleSetVersion.objects.filter(pk=version.pk).update(review_unqualified_stars=3)
    assert stars(tree)[member_a.pk]["stars"] == 3
    services.review_reopen(review=year["review"], user=users.committee, reason="复核")
    assert (stars(tree)[member_a.pk]["stars"], stars(tree)[member_a.pk]["capped"]) == (5, False)


def test_the_annual_page_shows_the_stars_capped_and_why(tree, member_a, year, users, login):
    page = login(users.committee).get(reverse("grading:annual_members", args=[tree.plant.pk, YEAR]))
    html = page.content.decode()
    row = html.split(f'data-member="{member_a.pk}"')[1].split("</tr>")[0]
    assert 'data-stars="1"' in row and "star-capped" in row
    other = html.split(f'data-member="{year["colleague"].pk}"')[1].split("</tr>")[0]
    assert 'data-stars="5"' in other and "star-capped" not in other


def test_the_workbook_shows_the_rating_and_the_capped_stars(tmp_path, tree, member_a, year):
    sheet = export(tmp_path, tree.plant).worksheets[2]
    assert sheet.cell(row=1, column=REVIEW_COLUMN + 1).value == "民主评议"
    rows = rows_by(sheet)
    ratings = confirmed_ratings(year=YEAR, members=[member_a.pk, year["colleague"].pk])
    assert ratings == {member_a.pk: Rating.UNQUALIFIED, year["colleague"].pk: Rating.QUALIFIED}
    mine = [c.value for c in rows[member_a.employee_no]]
    assert mine[10] == 360 and mine[12] == 1 and mine[REVIEW_COLUMN] == "不合格"
    theirs = [c.value for c in rows[year["colleague"].employee_no]]
    assert theirs[12] == 5 and theirs[REVIEW_COLUMN] == "合格"


def test_the_workbook_leaves_the_column_empty_without_a_confirmed_review(tmp_path, tree, member_a, year, users):
    services.review_reopen(review=year["review"], user=users.committee, reason="复核")
    row = [c.value for c in rows_by(export(tmp_path, tree.plant).worksheets[2])[member_a.employee_no]]
    assert row[12] == 5 and row[REVIEW_COLUMN] in (None, "")


def test_the_dossier_shows_the_rating_and_the_capped_stars(tree, member_a, year):
    from django.utils import translation

    with translation.override("zh-hans"):
        html = branch_dossier_html(tree.plant, YEAR, tree.branch_a)
    members = html.split('id="members"')[1].split("</table>")[0]
    row = members.split(member_a.name)[1].split("</tr>")[0]
    assert "★1" in row and "不合格" in row and "★5" in row  # capped from ★5
    other = members.split(year["colleague"].name)[1].split("</tr>")[0]
    assert "★5" in other and "合格" in other and "不合格" not in other
