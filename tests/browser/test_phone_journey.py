"""At 390 × 844 (a phone) the wide tables stay usable: the board's 合计 (total) and 后三名
columns and the meetings matrix's December are reachable by scrolling the table's own
box sideways (not hidden, not pushing the whole page wider), the branch name stays in
view while it scrolls, and the attendance buttons sit on one line. On the way: text
contrast of the 草稿 button and of links on tinted rows, the skip link and the navbar's
focus ring."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from branches.activities.models import Activity
from branches.grading.models import Publication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "partybuild-demo"
PHONE = {"width": 390, "height": 844}

# Scroll the table's .table-responsive box to its right end; report the box, the
# column's header cell and the sticky first cell of the first body row after scrolling.
SCROLL_TO_END = """([table, column]) => {
  const box = table.closest('.table-responsive');
  const style = getComputedStyle(box);
  const cell = table.querySelectorAll('thead tr:first-child > *')[column];
  const before = cell.getBoundingClientRect().left;
  box.scrollLeft = box.scrollWidth;
  const after = cell.getBoundingClientRect();
  const sticky = table.querySelector('tbody tr .pb-sticky, tbody tr th.branch-name');
  return {
    overflowX: style.overflowX, scrollable: box.scrollWidth > box.clientWidth,
    boxLeft: box.getBoundingClientRect().left, boxRight: box.getBoundingClientRect().right,
    before: before, left: after.left, right: after.right, display: getComputedStyle(cell).display,
    text: cell.textContent.trim(), stickyLeft: sticky ? sticky.getBoundingClientRect().left : null,
    pageWidth: document.documentElement.scrollWidth,
  };
}"""


CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let node = el, bg = null;
  while (node && !bg) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] > 0) bg = c;
    node = node.parentElement;
  }
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(bg || [255, 255, 255])].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def contrast(page, selector: str) -> float:
    return page.locator(selector).first.evaluate(CONTRAST)


def reachable(page, selector: str, column: int) -> dict:
    table = page.locator(selector)
    return page.evaluate(SCROLL_TO_END, [table.element_handle(), column])


def assert_reachable(result: dict) -> None:
    assert result["display"] != "none"
    assert result["overflowX"] == "auto" and result["scrollable"], result
    # Off to the right at first; in the box once it has scrolled.
    assert result["before"] > PHONE["width"] - 10, result
    assert result["boxLeft"] - 1 <= result["left"] and result["right"] <= result["boxRight"] + 1, result
    # The row's name stays at the box's left edge; the page itself does not scroll sideways.
    assert result["stickyLeft"] is not None and abs(result["stickyLeft"] - result["boxLeft"]) <= 2, result
    assert result["pageWidth"] <= PHONE["width"], result


def test_wide_tables_scroll_in_their_box_at_390_px(page, log_in, live_server, csp_violations):
    call_command("seed_demo", "--branches", "3", "--members", "30", "--months", "2", stdout=StringIO())
    publication = Publication.objects.order_by("-month", "-version").first()
    committee, month = publication.committee, publication.month
    activity = Activity.objects.filter(branch__path__startswith=committee.path, status="held").first()
    base = live_server.url
    page.set_viewport_size(PHONE)
    log_in("committee", DEMO_PASSWORD)

    page.goto(f"{base}{reverse('grading:board', args=[committee.pk, month.year, month.month])}")
    # Text reads at 4.5:1 at least: the yellow 草稿 button, links on a tinted (后三名) row.
    assert contrast(page, "#draft-link") >= 4.5
    if page.locator("#board tr.table-danger a").count():
        assert contrast(page, "#board tr.table-danger a") >= 4.5
    # The first Tab reaches the skip link (shown), the next the navbar with a visible ring.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    assert page.locator(".pb-skip-link").is_visible()
    page.keyboard.press("Tab")
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert page.evaluate("document.activeElement.classList.contains('navbar-brand')") and ring == ["solid", "3px"]
    headers = page.locator("#board thead th").all_inner_texts()
    total_column = headers.index("合计")
    assert headers.index("后三名") > total_column
    assert_reachable(reachable(page, "#board", total_column))
    bottom = reachable(page, "#board", headers.index("后三名"))
    assert bottom["right"] <= bottom["boxRight"] + 1

    page.goto(f"{base}{reverse('activities:compliance_matrix', args=[committee.pk])}")
    months = page.locator(".compliance-matrix thead th").all_inner_texts()
    assert months[-1] == "十二月", months
    assert_reachable(reachable(page, ".compliance-matrix", len(months) - 1))

    page.goto(f"{base}{reverse('activities:detail', args=[activity.pk])}")
    group = page.locator(".pb-attendance-buttons").first
    buttons = group.locator(".btn").all()
    tops = {round(b.bounding_box()["y"]) for b in buttons}
    heights = {round(b.bounding_box()["height"]) for b in buttons}
    assert len(buttons) == 4 and len(tops) == 1 and max(heights) < 40  # one line, one row

    assert csp_violations == []
