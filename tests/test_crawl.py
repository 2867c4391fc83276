"""Every link a page shows opens, for every role: a small crawler follows each <a href>
from "/" (as /work/shared/tools/crawl.py does against the demo) over the conftest tree
with a graded and published month, and every link it finds must answer below 400.

Month navigation is endless (every board links the month before), so a page is read for
more links only the first few times its *shape* — the URL name and its arguments other
than year and month — comes up; every link found is still opened. The same walk checks
what every page shows: breadcrumbs labelled in the page's language, months written as
"2025年4月", never "2025-04", and on every full page exactly one <h1> (its title for
screen readers and for the eye), a skip link to the main content and the
<main id="main"> it points to (these were walked a second time, the same way, by
tests/test_headings.py).
"""

import datetime
import re
from collections import Counter, deque
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve
from django.utils import timezone

from branches.activities import services as activities
from branches.grading import publishing, services
from branches.notifications.generators import notifications_generate
from branches.reportback import services as reportback
from members.commitments import services as commitments
from members.ledger.services import ledger_entry_record, rule_version_for
from members.reviews import services as reviews
from members.services import member_transfer

from . import factories as f
from .me.factories import member_login
from .projects.world import project_world
from .suggestions import factories as suggestion_factories

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2025, 4, 1)
ROLES = ["secretary", "committee", "admin", "other_secretary", "other_committee", "nobody", "member"]
# Fetched, never read for more links (as crawl.py): leaving, switching language, files.
NOT_FOLLOWED = re.compile(r"/(logout|i18n)/|/download/|\.(pdf|xlsx)$|/evidence/|/attachments/\d+/$")
READS_PER_SHAPE = 2
MAX_REQUESTS = 1500
# A month written as digits (2025-04) in the page's text; full dates (2025-04-10) are fine.
NUMERIC_MONTH = re.compile(r"(?<![\d-])\d{4}-(0[1-9]|1[0-2])(?![\d-])")
WESTERN_MONTH = re.compile(r"\d{1,2}月 \d{4}")
H1 = re.compile(r"<h1[\s>]")


class Page(HTMLParser):
    """The hrefs of a page and its visible text (no script, style or attributes)."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def shape(path: str) -> tuple:
    parts = urlsplit(path)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return (parts.path,)
    kwargs = tuple(sorted((k, v) for k, v in match.kwargs.items() if k not in ("year", "month")))
    return (match.view_name, kwargs)


def crawl(client) -> tuple[list[tuple[int, str, str]], list[tuple[str, str]], int, list[str], int]:
    """(links answering ≥ 400 with the page showing them, wrong wording with its page,
    requests made, heading and skip-link problems, full pages read)."""
    seen, queue = {"/"}, deque([("/", "(start)")])
    reads: Counter = Counter()
    failures, wording, requests = [], [], 0
    headings, pages = [], 0
    while queue:
        path, referrer = queue.popleft()
        requests += 1
        assert requests <= MAX_REQUESTS, "the crawl does not end: a link that makes new links forever?"
        response = client.get(path)
        if response.status_code >= 400:
            failures.append((response.status_code, path, referrer))
            continue
        if response.status_code in (301, 302):
            target = urljoin(path, response["Location"])
            if urlsplit(target).netloc in ("", "testserver") and target not in seen:
                seen.add(target)
                queue.append((target, path))
            continue
        if NOT_FOLLOWED.search(path) or "text/html" not in response.get("Content-Type", ""):
            continue
        reads[shape(path)] += 1
        if reads[shape(path)] > READS_PER_SHAPE:
            continue
        html = response.content.decode()
        if "<html" in html:  # not a fragment htmx swaps into a page
            pages += 1
            if (n := len(H1.findall(html))) != 1:
                headings.append(f"{n} <h1> on {path}")
            # The print layouts and the activity room's large screen have no navigation to skip.
            if "pb-navbar" in html and ('href="#main"' not in html or 'id="main"' not in html):
                headings.append(f"no skip link to #main on {path}")
        page = Page()
        page.feed(html)
        text = " ".join(page.text)
        if 'aria-label="breadcrumb"' in html:
            wording.append(("English breadcrumb label", path))
        for pattern in (NUMERIC_MONTH, WESTERN_MONTH):
            if found := pattern.search(text):
                wording.append((f"month written {found.group(0)!r}", path))
        for href in page.hrefs:
            href = urldefrag(urljoin(path, href))[0]
            parts = urlsplit(href)
            if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver") or not parts.path:
                continue
            local = parts._replace(scheme="", netloc="").geturl()
            if local not in seen:
                seen.add(local)
                queue.append((local, path))
    return failures, wording, requests, headings, pages


@pytest.fixture
def published_month(tree, users, member_a, member_x, settings, tmp_path, monkeypatch):
    """April 2025 of both committees graded and published (PLANT ranks two branches,
    OTHER one), with activities, attendance and points behind the numbers."""
    settings.MEDIA_ROOT = str(tmp_path)
    # The crawl asks whether a PDF opens; drawing it is the reports' tests' business.
    monkeypatch.setattr("branches.reports.pdf.render_pdf", lambda html: b"%PDF-1.7 stub")
    f.MemberFactory(branch=tree.branch_b, name="赵敏")
    for branch in (tree.branch_a, tree.branch_b, tree.branch_x):
        activities.activity_create(
            branch=branch, kind="themed_day", title="主题党日", date=datetime.date(2025, 4, 21), user=None
        )
    for member in (member_a, member_x):
        rule = rule_version_for(unit=member.branch, month=APRIL).rules.get(code="study_task")
        ledger_entry_record(member=member, rule=rule, month=APRIL, points=Decimal("3"), reason="学习", user=None)
    for committee, branches in ((tree.plant, (tree.branch_a, tree.branch_b)), (tree.other, (tree.branch_x,))):
        for branch in branches:
            for dimension in ("committee_work", "production", "other"):
                services.score_input_set(
                    branch=branch, month=APRIL, dimension=dimension, score=Decimal("80"), user=users.admin
                )
        run = services.grading_run_request(committee=committee, month=APRIL)
        services.grading_run_execute(run_id=run.pk)
        publishing.board_publish(committee=committee, month=APRIL, user=users.admin)
    # Then a member of OTHER moves to PLANT, bringing entries from activities PLANT's
    # staff may not open.
    f.MemberFactory(branch=tree.branch_x, group=tree.group_x1, name="周转")
    moved = f.MemberFactory(branch=tree.branch_x, group=tree.group_x1, name="孙迁")
    activities.activity_create(
        branch=tree.branch_x, kind="themed_day", title="五月主题党日", date=datetime.date(2025, 5, 21), user=None
    )
    # Commitments of 2025 (承诺践诺), checked at mid-year with evidence; the moved member
    # keeps one of OTHER's, which PLANT's staff see on the member page but may not open.
    template = commitments.commitment_template_create(
        branch=tree.branch_a, year=2025, text="全员安全承诺", field="safety", user=None
    )
    commitments.commitment_template_give(template=template, user=None)
    for member in (member_a, moved):
        commitment = commitments.commitment_create(
            branch=member.branch, year=2025, member=member, text="带好一名青工", field="production", user=None
        )
        commitments.commitment_check_set(
            commitment=commitment,
            period="mid",
            result="met",
            user=None,
            evidence=SimpleUploadedFile("佐证.pdf", b"%PDF-1.4 stub", content_type="application/pdf"),
        )
    # Suggestions in every state (moved today, an open month); the moved member's
    # adopted suggestion stays with the branch PLANT's staff may not open.
    for n, stage in enumerate(["submitted", "rejected", "accepted", "published", "implemented"]):
        s = suggestion_factories.suggestion(tree.branch_a, [member_a], title=f"合理化建议{n}")
        if stage != "submitted":
            suggestion_factories.through(s, stage)
    suggestion_factories.through(suggestion_factories.suggestion(tree.branch_x, [moved]), "accepted")
    member_transfer(member=moved, to_branch=tree.branch_b, on_date=datetime.date(2025, 5, 25))
    # This year's democratic review of branch A (the branch page links to it): a 不合格
    # result with its support plan, submitted; a talk whose follow-up is overdue.
    today = timezone.localdate()
    meeting = activities.activity_create(
        branch=tree.branch_a, kind="democratic_review", title="民主评议党员", date=today, user=None
    )
    review = reviews.review_start(branch=tree.branch_a, year=today.year, meeting=meeting, user=None)
    [result] = reviews.review_results_save(
        review=review, rows=[reviews.ResultRow(member_id=member_a.pk, rating="unqualified")], user=None
    )
    reviews.support_plan_create(result=result, helpers=[], measures="结对帮扶", review_on=today, user=None)
    reviews.review_submit(review=review, user=None)
    reviews.member_talk_record(
        member=member_a,
        held_on=today - datetime.timedelta(days=10),
        kind="reminder",
        talker_name="刘书记",
        topic="学习笔记",
        follow_up="检查",
        follow_up_due=today - datetime.timedelta(days=1),
        user=None,
    )
    # Projects, their milestones, value and a challenge with a claim (this month, open).
    project_world(tree, users, member_a)
    # 月述职: PLANT's pool (branches A and B, one a month from April), April drawn and scored.
    setup = reportback.setup_save(
        committee=tree.plant,
        cycle_start=APRIL,
        cycle_months=3,
        draw_day=20,
        scoring="trimmed",
        themes=["计划部署", "工作进展和创新举措", "工作成效、问题和整改", "全年成效和明年打算"],
        categories=[
            reportback.CategorySpec(slot=1, name="生产单位", quota=1, unit_ids=[tree.branch_a.pk, tree.branch_b.pk])
        ],
        today=APRIL,
    )
    report = reportback.draw_month(setup=setup, month=datetime.date(2025, 5, 1), user=None).reports.get()
    reportback.comment_add(report=report, leader="李厂长", text="思路清晰", user=None)
    reportback.assessment_set(report=report, assessor="李厂长", score=Decimal("88"), user=None)
    # Reminders in everyone's bell (meetings due, talks due, the overdue follow-up): the
    # list links to what each is about.
    for day in (datetime.date(2025, 4, 25), datetime.date(2025, 5, 20), today):
        notifications_generate(today=day)


@pytest.mark.parametrize("role", ROLES)
def test_every_link_a_page_shows_opens_for_each_role(users, member_a, published_month, client, role):
    client.force_login(member_login(member_a)[0] if role == "member" else getattr(users, role))

    failures, wording, requests, headings, pages = crawl(client)

    assert failures == [], "\n".join(f"{status} {url} (linked from {page})" for status, url, page in failures)
    assert wording == [], "\n".join(f"{what} on {page}" for what, page in wording)
    assert headings == [], "\n".join(headings)
    assert requests >= {"nobody": 1, "member": 5}.get(role, 40)  # the walk went somewhere
    assert pages >= {"nobody": 1, "member": 5}.get(role, 30)
