"""The year-end PDFs: what a reader finds in them (text extracted with pypdf), that the
Chinese is set in Noto Sans CJK and nothing else, and who may download them.

Publications are made directly with the ORM, as the publishing service would leave them
(see tests/grading/test_annual.py). WeasyPrint takes about a second a document, so the
data is small and each test renders as few documents as it can."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _
from pypdf import PdfReader

from branches.grading import annual
from branches.grading.models import GradingRun, Publication, PublishedBranchScore, PublishedMemberScore, Talk
from branches.models import OrgUnit
from branches.reports import pdf

pytestmark = pytest.mark.django_db
YEAR = 2024


def month(n: int) -> datetime.date:
    return datetime.date(YEAR, n, 1)


def publish(committee, on, branches=(), members=()) -> Publication:
    """``branches`` as (branch, total, rank, bottom three); ``members`` as (member, branch,
    total, stars). Each call adds the next version of the month."""
    version = Publication.objects.filter(committee=committee, month=on).count() + 1
    run = GradingRun.objects.create(committee=committee, month=on, state=GradingRun.State.SUCCEEDED)
    publication = Publication.objects.create(committee=committee, month=on, version=version, run=run)
    PublishedBranchScore.objects.bulk_create(
        PublishedBranchScore(
            publication=publication,
            branch=branch,
            basics=Decimal(total),
            committee_work=Decimal("80.00"),
            production=None,
            membership=Decimal(total),
            other=Decimal("70.00"),
            total=Decimal(total),
            rank=rank,
            bottom_three=bottom,
        )
        for branch, total, rank, bottom in branches
    )
    PublishedMemberScore.objects.bulk_create(
        PublishedMemberScore(publication=publication, member=m, branch=b, total=Decimal(t), stars=s)
        for m, b, t, s in members
    )
    return publication


@pytest.fixture
def year(tree, member_a):
    """January and February published for PLANT; January republished (version 2 counts);
    one talk with branch B."""
    member_a.employee_no = "E900001"
    member_a.save()
    publish(tree.plant, month(1), [(tree.branch_a, "50.00", 2, True), (tree.branch_b, "60.00", 1, False)])
    publish(
        tree.plant,
        month(1),
        [(tree.branch_a, "91.50", 1, False), (tree.branch_b, "77.25", 2, True)],
        [(member_a, tree.branch_a, "18.50", 4)],
    )
    publish(
        tree.plant,
        month(2),
        [(tree.branch_a, "88.00", 2, True), (tree.branch_b, "89.00", 1, False)],
        [(member_a, tree.branch_a, "17.00", 3)],
    )
    Talk.objects.create(
        committee=tree.plant,
        month=month(1),
        branch=tree.branch_b,
        held_on=datetime.date(YEAR, 2, 10),
        talked_by="张书记",
        talked_with="设备支部书记",
        notes="分析落后原因",
        actions="每周汇报整改进度",
    )
    OrgUnit.objects.filter(pk=tree.branch_a.pk).update(tier=OrgUnit.Tier.EXEMPLARY, brand="钢铁先锋")
    tree.branch_a.refresh_from_db()
    return tree


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def fonts_of(content: bytes) -> set[str]:
    """The BaseFont names embedded on every page (subset prefixes kept)."""
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]))
    return names


def assert_noto_only(content: bytes) -> None:
    """Every embedded font is Noto Sans CJK (WeasyPrint names it ``ABCDEF+Noto-Sans-CJK-SC``
    or ``…+NotoSansCJKsc-Regular``): no fallback font stood in for a missing glyph."""
    fonts = fonts_of(content)
    assert fonts
    assert all("NotoSansCJK" in name.replace("-", "") for name in fonts), fonts


# --- the branch dossier ----------------------------------------------------------------


def test_the_dossier_shows_the_branch_its_months_members_and_talks_in_noto_sans_cjk(year):
    annual.annual_rollup(committee=year.plant, year=YEAR)
    content = pdf.render_pdf(pdf.branch_dossier_html(year.plant, YEAR, year.branch_a))
    assert content.startswith(b"%PDF")
    text = text_of(content)
    for expected in (
        "连铸作业区党支部",
        "炼钢厂党委",
        "钢铁先锋",
        "示范型",
        "三会一课落实情况",
        "党员年度星级",
        "谈话帮扶",
    ):
        assert expected in text, expected
    # January counts its latest version (91.50, not 50.00); the mean is (91.50 + 88.00) / 2.
    assert "91.50" in text and "50.00" not in text
    assert "88.00" in text
    assert "89.75" in text
    # The member's year total 18.50 + 17.00, with their employee number.
    assert "王建国" in text and "E900001" in text and "35.50" in text
    assert_noto_only(content)


def test_the_dossier_draws_the_monthly_totals_as_an_svg_line():
    points = [pdf.ChartPoint(month(n), Decimal("90.00") if n < 3 else None, 1 if n < 3 else None) for n in range(1, 13)]
    svg = pdf.score_chart_svg(points)
    assert svg.startswith("<svg") and "<polyline" in svg and "<script" not in svg
    assert svg.count("<circle") == 2


def test_a_branch_talked_with_has_its_talk_in_the_dossier(year):
    text = text_of(pdf.render_pdf(pdf.branch_dossier_html(year.plant, YEAR, year.branch_b)))
    assert "设备党支部" in text and "每周汇报整改进度" in text and "张书记" in text


# --- the committee summary and the board -----------------------------------------------------


def test_the_summary_ranks_the_branches_by_their_annual_mean(year):
    rows = pdf.summary_rows(committee=year.plant, year=YEAR)
    # A: (91.50 + 88.00) / 2 = 89.75; B: (77.25 + 89.00) / 2 = 83.125 → 83.13.
    assert [(r.branch.name, r.rank, r.mean, r.months, r.bottom) for r in rows] == [
        ("连铸作业区党支部", 1, Decimal("89.75"), 2, 1),
        ("设备党支部", 2, Decimal("83.13"), 2, 1),
    ]
    buckets = {b.low: b.count for b in pdf.mean_distribution(rows)}
    assert buckets[80] == 2 and sum(buckets.values()) == 2


def test_the_board_pdf_lists_the_ranks_of_the_latest_version(year):
    content = pdf.render_pdf(pdf.board_html(year.plant, month(1)))
    text = text_of(content)
    assert "连铸作业区党支部" in text and "设备党支部" in text and "排名" in text and "后三名" in text
    assert "91.50" in text and "77.25" in text and "50.00" not in text
    assert_noto_only(content)


def test_a_month_never_published_has_no_board(year):
    assert pdf.board_html(year.plant, month(3)) is None


def test_the_year_pdf_has_the_summary_then_each_dossier_and_reports_progress(year, tmp_path):
    seen = []
    out = tmp_path / "year.pdf"
    pdf.write_year_pdf(out, committee=year.plant, year=YEAR, progress=seen.append)
    reader = PdfReader(str(out))
    assert len(reader.pages) >= 3
    first = reader.pages[0].extract_text()
    assert "炼钢厂党委" in first and "年度评定" in first
    text = text_of(out.read_bytes())
    assert "连铸作业区党支部" in text and "设备党支部" in text and "总分分布" in text
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) == 4
    assert_noto_only(out.read_bytes())


def page_texts(path) -> list[str]:
    return [page.extract_text() for page in PdfReader(str(path)).pages]


def outline_of(reader: PdfReader, items=None) -> list[tuple[str, int, list]]:
    """(title, page index, children) of each outline entry."""
    result = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            result[-1][2].extend(outline_of(reader, item))
        else:
            result.append((item.title, reader.get_destination_page_number(item), []))
    return result


@pytest.fixture
def long_year(year, monkeypatch):
    """Branch A with 80 members published in January: its dossier runs over several
    pages, so the parts after it start further on. Page numbers laid out two pages at a
    time, so the file crosses several overlays."""
    from tests import factories as f

    members = [f.MemberFactory(branch=year.branch_a, group=year.group_a1) for _ in range(80)]
    publication = Publication.objects.get(committee=year.plant, month=month(1), version=2)
    PublishedMemberScore.objects.bulk_create(
        PublishedMemberScore(publication=publication, member=m, branch=year.branch_a, total=Decimal("12.00"), stars=3)
        for m in members
    )
    monkeypatch.setattr(pdf, "OVERLAY_PAGES", 2)
    return year


def contents_entries(text: str) -> dict[str, int]:
    return {title: int(page) for title, page in re.findall(r"^(.+?) (\d+)$", text, flags=re.MULTILINE)}


def test_the_year_pdf_numbers_every_page_n_of_n_and_its_contents_give_where_each_part_starts(long_year, tmp_path):
    out = tmp_path / "year.pdf"
    pdf.write_year_pdf(out, committee=long_year.plant, year=YEAR, progress=lambda pct: None)
    texts = page_texts(out)
    total = len(texts)
    assert total >= 5
    # Every page shows its own number of the whole file, once, and no other "n / N".
    for n, text in enumerate(texts, start=1):
        assert re.findall(r"\b(\d+) / (\d+)\b", text) == [(str(n), str(total))], (n, text)

    contents = texts[0]
    assert "炼钢厂党委" in contents and str(_("Contents")) in contents
    entries = contents_entries(contents)
    starts = {title: entries[title] for title in ["年度评定", "连铸作业区党支部", "设备党支部"]}
    assert starts["年度评定"] == 2 and "总分分布" in "".join(texts[1 : min(starts.values()) - 1] or texts[1:2])
    ends = dict(zip(sorted(starts, key=starts.get), [*sorted(starts.values())[1:], total + 1], strict=True))
    assert ends["连铸作业区党支部"] - starts["连铸作业区党支部"] > 1  # branch A's dossier runs over pages
    for branch in ["连铸作业区党支部", "设备党支部"]:
        first = starts[branch]
        assert branch in texts[first - 1].splitlines()[0]  # the dossier's heading opens the page
        assert branch not in texts[first - 2].splitlines()[0]  # the page before is another part's
    assert_noto_only(out.read_bytes())  # the page numbers too


def test_the_year_pdf_outline_leads_to_the_contents_each_part_and_its_sections(long_year, tmp_path):
    out = tmp_path / "year.pdf"
    pdf.write_year_pdf(out, committee=long_year.plant, year=YEAR, progress=lambda pct: None)
    reader = PdfReader(str(out), strict=True)
    outline = outline_of(reader)
    contents = reader.pages[0].extract_text()
    entries = contents_entries(contents)
    assert [title for title, _page, _children in outline] == [
        str(_("Contents")),
        "年度评定",
        *sorted(["连铸作业区党支部", "设备党支部"], key=entries.get),
    ]
    assert outline[0][1] == 0
    parts = outline[1:]
    for (title, page, children), following in zip(parts, [*[p[1] for p in parts[1:]], len(reader.pages)], strict=True):
        assert entries[title] == page + 1  # the contents page and the outline agree
        assert children and all(page <= child < following for _t, child, _c in children), (title, children)


def test_a_year_pdf_that_fails_leaves_no_part_behind(year, tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    calls = []

    def dossier(selection, row):
        calls.append(row)
        if len(calls) == 2:
            raise RuntimeError("renderer died")
        return "<h1>x</h1>"

    monkeypatch.setattr(pdf, "dossier_html", dossier)
    with pytest.raises(RuntimeError):
        pdf.write_year_pdf(tmp_path / "year.pdf", committee=year.plant, year=YEAR, progress=lambda pct: None)
    assert list(scratch.iterdir()) == []
    assert not (tmp_path / "year.pdf").exists()


# --- downloads ------------------------------------------------------------------------------


def board_url(tree, n: int = 1) -> str:
    return reverse("reports:board_pdf", args=[tree.plant.pk, YEAR, n])


def dossier_url(tree, branch) -> str:
    return reverse("reports:dossier_pdf", args=[tree.plant.pk, branch.pk, YEAR])


def test_a_secretary_under_the_committee_downloads_the_board_as_a_chinese_named_pdf(year, users, login):
    response = login(users.secretary).get(board_url(year))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    assert "%E6%8E%92%E5%90%8D%E6%A6%9C" in disposition  # 排名榜
    assert "连铸作业区党支部" in text_of(response.content)


def test_a_month_not_published_is_a_404(year, users, login):
    assert login(users.committee).get(board_url(year, 3)).status_code == 404


def test_committee_staff_download_any_dossier_of_the_committee(year, users, login):
    response = login(users.committee).get(dossier_url(year, year.branch_b))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "设备党支部" in text_of(response.content)


def test_a_secretary_downloads_their_own_dossier_but_not_another_branchs(year, users, login):
    client = login(users.secretary)
    assert client.get(dossier_url(year, year.branch_a)).status_code == 200
    assert client.get(dossier_url(year, year.branch_b)).status_code == 404


@pytest.mark.parametrize("who", ["other_committee", "other_secretary", "nobody"])
def test_outsiders_get_404_for_the_board_and_every_dossier(year, users, login, who):
    client = login(getattr(users, who))
    assert client.get(board_url(year)).status_code == 404
    assert client.get(dossier_url(year, year.branch_a)).status_code == 404
    assert client.get(dossier_url(year, year.branch_b)).status_code == 404


def test_a_branch_of_another_committee_is_not_a_dossier_of_this_one(year, users, login):
    url = reverse("reports:dossier_pdf", args=[year.plant.pk, year.branch_x.pk, YEAR])
    assert login(users.admin).get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(year, client):
    assert client.get(board_url(year)).status_code == 302
    assert client.get(dossier_url(year, year.branch_a)).status_code == 302


def test_a_year_pdf_that_fails_while_joining_leaves_no_file(year, tmp_path, monkeypatch):
    from branches.reports import pdfjoin

    def crash(self, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pdfjoin.PdfJoin, "close", crash)
    with pytest.raises(OSError):
        pdf.write_year_pdf(tmp_path / "year.pdf", committee=year.plant, year=YEAR, progress=lambda pct: None)
    assert list(tmp_path.iterdir()) == []
