"""No parameter makes a page fail.

Every URL pattern of the project (the admin aside) is walked with edge values in each of
its parameters — 0, -1, numbers past PostgreSQL's integer and bigint, 10^20, year 1 and
9999, month 0 and 13, the last month the system can hold — and, where the pattern needs
one to reach deeper code, a real object's id. Each URL is requested as every role with
GET and, where the pattern takes POST, with POST; the pages that open are asked again with
edge values in the common query parameters (?year=, ?month=, ?page=, ?q=, …) and form
fields (month, year). Nothing may answer 500: a bad parameter is a 404 or a form error.
"""

import datetime
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from branches.activities import services as activities
from branches.activities.models import Attendance
from branches.converters import (
    FIRST_MONTH,
    FIRST_YEAR,
    LAST_MONTH,
    LAST_YEAR,
    MAX_ID,
    IdConverter,
    MonthConverter,
    YearConverter,
)
from branches.grading import annual, publishing
from branches.grading import services as grading
from branches.grading.models import GradingRun
from branches.models import BranchTitle
from branches.notifications.models import Notification
from branches.reportback import services as reportback
from branches.reports import services as reports
from branches.reports.models import ReportFile
from branches.reports.views import pdfs
from branches.services import month_label
from members.commitments import services as commitments
from members.ledger.forms import this_month
from members.ledger.models import Rule, RuleSet, RuleSetVersion, ScoreItem
from members.ledger.rule_forms import RuleVersionForm
from members.ledger.rule_services import rule_set_version_create
from members.ledger.services import ledger_entry_record, rule_version_for
from members.models import MemberHonour, MemberRole
from members.reviews import services as reviews
from tests.projects.world import project_world

from ..me import factories as me_factories
from ..suggestions import factories as suggestion_factories

pytestmark = pytest.mark.django_db

YEAR, MONTH = 2025, 4
APRIL = datetime.date(YEAR, MONTH, 1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HUGE = str(10**20)

# Values that may sit in a path parameter of each kind. Year and month also meet in pairs
# (CORNERS), since the month after 9999-12 is where date arithmetic overflows.
EDGES = {
    "id": ["0", "-1", "2147483648", "9223372036854775808", HUGE],
    "year": ["1", "0001", "0", "-1", "1999", "2101", "9999", HUGE],
    "month": ["0", "00", "13", "-1", HUGE],
    "slug": ["0", "-1", HUGE, "x" * 100],
    "str": ["0", "-1", HUGE, "x"],
}
CORNERS = [("1", "1"), ("9999", "12"), ("2000", "1"), ("2100", "12"), (HUGE, "12"), ("2025", "13")]


def query(*, year: str, month: str, page: str, q: str, ids: str, day: str) -> dict[str, str]:
    """The query parameters the list pages read, filled with one set of edge values."""
    return {
        "year": year,
        "month": month,
        "page": page,
        "q": q,
        **dict.fromkeys(["version", "branch", "member", "unit", "group"], ids),
        **dict.fromkeys(["date_from", "date_to"], day),
    }


QUERIES = [
    query(year="1", month="0001-01", page="0", q="0", ids="0", day="0001-01-01"),
    query(year="9999", month="9999-12", page="-1", q="-1", ids="-1", day="9999-12-31"),
    query(year=HUGE, month=HUGE, page=HUGE, q=HUGE, ids=HUGE, day=HUGE),
    query(year="-1", month="13", page="abc", q="\x00", ids="2147483648", day="2025-02-30"),
    query(year="0", month="0", page="99999", q="%", ids="9223372036854775808", day="abc"),
    query(year="abc", month="2025-13", page="", q="x" * 1000, ids="abc", day=""),
]
# The form fields that take a month or a year.
FORMS = [
    {"month": month, "year": year, "effective_month": month, "format": "xlsx"}
    for month, year in (("0001-01", "1"), ("9999-12", "9999"), (HUGE, HUGE), ("2025-13", "0"), ("-1", "-1"))
]

ROLES = ["anonymous", "secretary", "committee", "admin", "outsider", "member"]
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
# The stored roster upload is the secretary's: its token is worthless to anyone else.
# So is a reminder: only its user may mark it read.
SECRETARY_ONLY = {"members:import_preview", "members:import_confirm", "notifications:read"}
# A member's own pages: 404 for a login with no member record (staff, administrators).
MEMBER_ONLY = {"me:home", "me:points", "me:board", "me:suggest"}
# Fewer patterns than this means the walk lost its way (an include it did not follow).
MIN_PATTERNS = 60


def parameter_kind(name: str) -> str:
    if name in ("year", "month"):
        return name
    if name == "pk" or name.endswith("_pk"):
        return "id"
    if name == "token":
        return "slug"
    if name == "dimension":
        return "str"
    raise LookupError(name)


def skipped_prefixes() -> tuple[str, ...]:
    """The admin (Django's own), and static and media files where DEBUG serves them."""
    return ("admin/", *(url.lstrip("/") for url in (settings.STATIC_URL, settings.MEDIA_URL) if url))


def walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    """(route, name) of every pattern under ``resolver``; a regex pattern (which this
    walk cannot fill) comes back marked REGEX for the caller to refuse."""
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        route = prefix + (str(pattern) if isinstance(pattern, RoutePattern) else f"REGEX:{pattern.regex.pattern}")
        if route.startswith(skipped_prefixes()):
            continue
        if isinstance(entry, URLResolver):
            yield from walk(entry, route, ":".join(n for n in (namespace, entry.namespace) if n))
        elif isinstance(entry, URLPattern):
            yield route, ":".join(n for n in (namespace, entry.name or "") if n)


@pytest.fixture
def world(tree, users, member_a, settings, tmp_path, client):
    """One real object of every kind a URL names, in branch A of PLANT, April 2025 graded
    and published."""
    settings.MEDIA_ROOT = tmp_path / "media"
    activity = activities.activity_create(
        branch=tree.branch_a, kind="themed_day", title="主题党日", date=datetime.date(YEAR, MONTH, 21), user=None
    )
    attendance = Attendance.objects.get(activity=activity, member=member_a)
    attachment = activities.activity_attachment_add(
        activity=activity, upload=SimpleUploadedFile("会议.pdf", PDF, content_type="application/pdf"), user=None
    )
    rule = Rule.objects.get(version=rule_version_for(unit=tree.branch_a, month=APRIL), code="exemplary_award")
    entry = ledger_entry_record(
        member=member_a,
        rule=rule,
        month=APRIL,
        points=Decimal("5"),
        reason="节点完成",
        user=None,
        evidence=SimpleUploadedFile("证明.pdf", PDF, content_type="application/pdf"),
    )
    for branch in (tree.branch_a, tree.branch_b):
        for dimension in ("committee_work", "production", "other"):
            grading.score_input_set(branch=branch, month=APRIL, dimension=dimension, score=Decimal("80"), user=None)
    run = grading.grading_run_request(committee=tree.plant, month=APRIL)
    grading.grading_run_execute(run_id=run.pk)
    publication = publishing.board_publish(committee=tree.plant, month=APRIL, user=None)
    [grade, *_] = annual.annual_rollup(committee=tree.plant, year=YEAR, user=None)
    report = reports.report_request(committee=tree.plant, year=YEAR, fmt="xlsx", user=users.committee)
    report.file.save("report.xlsx", ContentFile(b"PK"), save=False)
    report.state = ReportFile.State.READY
    report.save()
    # A scored item (细则) of another committee's rules: the item pages answer for it too.
    other_rules = RuleSetVersion.objects.create(
        rule_set=RuleSet.objects.create(committee=tree.other, name="热轧厂细则"), number=1, effective_month=APRIL
    )
    item = ScoreItem.objects.create(
        version=other_rules, dimension="committee_work", code="org", name="组织建设", max_score=Decimal("100")
    )
    # A suggestion carried to implementation (with evidence), moved today: an open month.
    suggestion = suggestion_factories.through(suggestion_factories.suggestion(tree.branch_a, [member_a]), "implemented")
    role = MemberRole.objects.create(member=member_a, unit=tree.branch_a, role="secretary", started_on="2021-01-01")
    honour = MemberHonour.objects.create(member=member_a, kind="model_post", stars=2, awarded_on="2022-01-01")
    title = BranchTitle.objects.create(branch=tree.branch_a, kind="model_branch", awarded_on="2022-01-01")
    # A commitment of 2025 from a template, with a milestone and a mid-year check with evidence.
    commitment_template = commitments.commitment_template_create(
        branch=tree.branch_a, year=YEAR, text="全员安全承诺", field="safety", user=None
    )
    commitments.commitment_template_give(template=commitment_template, user=None)
    commitment = commitments.commitment_create(
        branch=tree.branch_a,
        year=YEAR,
        member=member_a,
        text="带好两名青工",
        field="production",
        milestones=[("上半年带一名", None)],
        user=None,
    )
    commitment_check = commitments.commitment_check_set(
        commitment=commitment,
        period="mid",
        result="met",
        user=None,
        evidence=SimpleUploadedFile("证明.pdf", PDF, content_type="application/pdf"),
    ).check
    # 月述职: PLANT's pool (branches A and B, one a month), April drawn.
    draw = reportback.draw_month(
        setup=reportback.setup_save(
            committee=tree.plant,
            cycle_start=APRIL,
            cycle_months=2,
            draw_day=20,
            scoring="trimmed",
            themes=["一", "二", "三", "四"],
            categories=[
                reportback.CategorySpec(slot=1, name="生产单位", quota=1, unit_ids=[tree.branch_a.pk, tree.branch_b.pk])
            ],
            today=APRIL,
        ),
        month=APRIL,
    )
    reportback_report = reportback.report_upload(
        report=draw.reports.get(), upload=SimpleUploadedFile("述职报告.pdf", PDF, content_type="application/pdf")
    )
    # A roster upload kept for the secretary, through the pages themselves.
    client.force_login(users.secretary)
    template = io.BytesIO(client.get("/members/import/template.xlsx").content)
    template.name = "roster.xlsx"
    response = client.post("/members/import/", {"file": template})
    assert response.status_code == 302, response
    token = response["Location"].rstrip("/").split("/")[-1]
    client.logout()
    # The democratic review of the year with a 不合格 result, its support plan, and a talk.
    meeting = activities.activity_create(
        branch=tree.branch_a, kind="democratic_review", title="民主评议党员", date=datetime.date(YEAR, 12, 5), user=None
    )
    review = reviews.review_start(branch=tree.branch_a, year=YEAR, meeting=meeting, user=None)
    [result] = reviews.review_results_save(
        review=review, rows=[reviews.ResultRow(member_id=member_a.pk, rating="unqualified")], user=None
    )
    plan = reviews.support_plan_create(
        result=result, helpers=[], measures="结对帮扶", review_on=datetime.date(YEAR + 1, 6, 1), user=None
    )
    talk = reviews.member_talk_record(
        member=member_a,
        held_on=datetime.date(YEAR, 5, 6),
        kind="reminder",
        talker_name="刘书记",
        topic="学习笔记",
        follow_up="检查",
        follow_up_due=datetime.date(YEAR, 6, 6),
        user=None,
    )
    projects = project_world(tree, users, member_a)
    # A reminder of the secretary's (the bell's list; only its user may mark it read).
    notification = Notification.objects.create(
        user=users.secretary, kind="conversion_due", subject=f"member:{member_a.pk}", period="2025-05-10", title="转正"
    )
    today_activity = activities.activity_create(
        branch=tree.branch_a, kind="party_lecture", title="党课", date=timezone.localdate(), user=None
    )
    return SimpleNamespace(
        notification=notification,
        today_activity=today_activity,
        review=review,
        result=result,
        plan=plan,
        talk=talk,
        projects=projects,
        tree=tree,
        users=users,
        member=member_a,
        activity=activity,
        attendance=attendance,
        attachment=attachment,
        entry=entry,
        run=run,
        publication=publication,
        grade=grade,
        report=report,
        role=role,
        honour=honour,
        title=title,
        token=token,
        item=item,
        rule_set=RuleSet.objects.get(committee__isnull=True),
        commitment=commitment,
        commitment_template=commitment_template,
        commitment_check=commitment_check,
        suggestion=suggestion,
        draw=draw,
        reportback_report=reportback_report,
    )


def valid_values(name: str, params: list[str], world) -> dict[str, str]:
    """Real values for a pattern's parameters: by parameter name, and for ``pk`` and
    ``unit_pk`` by what the URL's name says the object is. A parameter this cannot fill
    is a KeyError, which the test reports."""
    tree = world.tree
    by_name = {
        "year": YEAR,
        "month": MONTH,
        "committee_pk": tree.plant.pk,
        "branch_pk": tree.branch_a.pk,
        "unit_pk": tree.branch_a.pk,
        "attendance_pk": world.attendance.pk,
        "honour_pk": world.honour.pk,
        "title_pk": world.title.pk,
        "role_pk": world.role.pk,
        "grade_pk": world.grade.pk,
        "group_pk": tree.group_a1.pk,
        "token": world.token,
        "dimension": "committee_work",
        "item_pk": world.item.pk,
    }
    namespace = name.split(":")[0]
    pk_by_url = {
        "branches": tree.branch_a.pk,
        "branches:tracking": tree.plant.pk,
        "members": world.member.pk,
        "activities": world.activity.pk,
        "activities:attachment": world.attachment.pk,
        "grading:run_detail": world.run.pk,
        "grading:run_progress": world.run.pk,
        "grading:publication_changes": world.publication.pk,
        "reports": world.report.pk,
        "ledger:member_ledger": world.member.pk,
        "ledger:record": world.member.pk,
        "ledger:reverse": world.entry.pk,
        "ledger:evidence": world.entry.pk,
        "ledger:ruleset_detail": world.rule_set.pk,
        "ledger:ruleset_version_create": world.rule_set.pk,
        "grading:version_preview": world.rule_set.pk,
        "ledger:ruleset_changes": world.rule_set.pk,
        "commitments": world.commitment.pk,
        "commitments:template_give": world.commitment_template.pk,
        "commitments:milestone_toggle": world.commitment.milestones.get().pk,
        "commitments:evidence": world.commitment_check.pk,
        "suggestions": world.suggestion.pk,
        "notifications": world.notification.pk,
        "reviews": world.review.pk,
        "reviews:plan_create": world.result.pk,
        "reviews:plan_detail": world.plan.pk,
        "reviews:plan_close": world.plan.pk,
        "reviews:member_talks": world.member.pk,
        "reviews:talk_create": world.member.pk,
        "reviews:talk_edit": world.talk.pk,
        "reviews:talk_done": world.talk.pk,
        "projects": world.projects.project.pk,
        "projects:team_remove": world.projects.team.pk,
        "projects:milestone_move": world.projects.milestone.pk,
        "projects:evidence": world.projects.record.pk,
        "projects:challenge": world.projects.challenge.pk,
        "projects:challenge_claim": world.projects.challenge.pk,
        "projects:challenge_close": world.projects.challenge.pk,
        "projects:claim_pick": world.projects.claim.pk,
        "reportback": world.draw.pk,
        "reportback:session": world.reportback_report.session_id,
        "reportback:summary": world.reportback_report.session_id,
        "reportback:report": world.reportback_report.pk,
        "reportback:upload": world.reportback_report.pk,
        "reportback:report_file": world.reportback_report.pk,
        "reportback:comment": world.reportback_report.pk,
        "reportback:assess": world.reportback_report.pk,
        "reportback:unit_history": world.reportback_report.unit_id,
        "me:login_issue": world.member.pk,
        # The sign-in code is shown on the activity's day only.
        "activities:qr": world.today_activity.pk,
    }
    overrides = {"members:group_leader": {"unit_pk": tree.group_a1.pk}}
    values = {}
    for param in params:
        if param in overrides.get(name, {}):
            values[param] = overrides[name][param]
        elif param == "pk":
            values[param] = pk_by_url[name] if name in pk_by_url else pk_by_url[namespace]
        else:
            values[param] = by_name[param]
    return {k: str(v) for k, v in values.items()}


def fill(route: str, values: dict[str, str]) -> str:
    return "/" + PARAMETER.sub(lambda m: values[m.group("name")], route)


def variants(params: list[str], valid: dict[str, str]) -> list[dict[str, str]]:
    """The real values, then each parameter in turn replaced by its edge values, then the
    year-month corners."""
    out = [dict(valid)]
    for param in params:
        for value in EDGES[parameter_kind(param)]:
            out.append({**valid, param: value})
    if "year" in params and "month" in params:
        out.extend({**valid, "year": y, "month": m} for y, m in CORNERS)
    return out


def patterns() -> list[tuple[str, str]]:
    return list(walk(get_resolver()))


def test_the_walk_finds_every_pattern_and_knows_every_parameter():
    found = patterns()
    assert len(found) >= MIN_PATTERNS, len(found)
    unknown = []
    for route, name in found:
        assert "REGEX:" not in route, f"{name}: a regex pattern cannot be filled"
        for match in PARAMETER.finditer(route):
            try:
                parameter_kind(match.group("name"))
            except LookupError:
                unknown.append((name, match.group("name")))
            assert match.group("converter") in ("id", "year", "month", "slug", "str"), (name, match.group(0))
    assert not unknown, f"add edge values for these parameters: {unknown}"


def login_as(client, world, role: str) -> None:
    client.logout()
    if role == "anonymous":
        return
    if role == "member":
        user, _issued = me_factories.member_login(world.member)
    else:
        user = {"outsider": world.users.other_committee}.get(role) or getattr(world.users, role)
    client.force_login(user)


@pytest.mark.parametrize("role", ROLES)
def test_no_parameter_makes_a_page_fail(world, client, role, monkeypatch):
    # The HTML of a PDF is built from the parameters; turning it into PDF bytes is not,
    # and costs a tenth of a second a page.
    monkeypatch.setattr(pdfs.pdf, "render_pdf", lambda html: b"%PDF-1.4 stub")
    client.raise_request_exception = False
    login_as(client, world, role)
    failures, walked, requests, unreached = [], 0, 0, set()

    def request(method: str, url: str, name: str, data=None):
        nonlocal requests
        requests += 1
        response = getattr(client, method)(url, data or {})
        if response.status_code >= 500:
            failures.append((response.status_code, method.upper(), url, data, name))
        if name == "logout":  # a POST to it ends the session the rest of the walk needs
            login_as(client, world, role)
        return response

    for route, name in patterns():
        if "REGEX:" in route:
            pytest.fail(f"{name} ({route}): a regex pattern cannot be filled")
        params = [m.group("name") for m in PARAMETER.finditer(route)]
        try:
            valid = valid_values(name, params, world)
        except KeyError as exc:
            pytest.fail(f"{name} ({route}): no real value for {exc}")
        valid_url = fill(route, valid)
        assert resolve(valid_url).view_name == name, (valid_url, name)
        walked += 1
        posted = request("post", valid_url, name)
        takes_post = posted.status_code != 405
        # What the view read tells which pages take query parameters and form fields.
        reads_form = "_post" in posted.wsgi_request.__dict__
        got = request("get", valid_url, name)
        reads_query = "GET" in got.wsgi_request.__dict__
        if {got.status_code, posted.status_code} <= {404, 405}:
            unreached.add(name)
        refused = []
        for values in variants(params, valid)[1:]:
            url = fill(route, values)
            try:
                resolve(url)
            except Resolver404:
                refused.append(url)
                continue
            request("get", url, name)
            if takes_post:
                request("post", url, name)
        # A URL the resolver refuses is a 404 before any view or role comes into it:
        # anonymous visitors ask for each of them, every other role for one.
        for url in refused if role == "anonymous" else refused[:1]:
            request("get", url, name)
        if reads_query:
            for data in QUERIES:
                request("get", valid_url, name, data)
        if reads_form:
            for data in FORMS:
                request("post", valid_url, name, data)
    assert walked >= MIN_PATTERNS
    # The real values reach every view: the administrator's past the access checks.
    if role == "admin":
        assert unreached == SECRETARY_ONLY | MEMBER_ONLY, unreached
    if role == "member":
        assert not unreached & MEMBER_ONLY
    if role == "secretary":
        assert not unreached & SECRETARY_ONLY
    assert not failures, f"{len(failures)} of {requests} requests failed:\n" + "\n".join(map(str, failures))


# --- the cases the review found, and the range itself --------------------------------


def test_the_urls_the_review_found_are_404(tree, users, login):
    client = login(users.admin)
    client.raise_request_exception = False
    for url in (
        f"/grading/{tree.plant.pk}/{HUGE}/9/",
        f"/grading/{tree.plant.pk}/9999/12/",
        f"/ledger/branches/{tree.branch_a.pk}/{HUGE}/1/",
        f"/ledger/branches/{tree.branch_a.pk}/0001/1/",
        f"/grading/{tree.plant.pk}/2025/13/",
        f"/members/{HUGE}/",
    ):
        assert client.get(url).status_code == 404, url


def test_the_first_and_last_month_the_system_holds_open(tree, users, login):
    client = login(users.admin)
    for year, month in ((FIRST_YEAR, 1), (LAST_YEAR, 12)):
        url = reverse("ledger:branch_month", args=[tree.branch_a.pk, year, month])
        assert client.get(url).status_code == 200, url
        assert client.get(reverse("grading:board", args=[tree.plant.pk, year, month])).status_code != 500


@pytest.mark.parametrize(
    ("converter", "good", "bad"),
    [
        (IdConverter(), ["1", str(MAX_ID)], ["0", str(MAX_ID + 1), HUGE]),
        (YearConverter(), [str(FIRST_YEAR), str(LAST_YEAR)], ["0001", "1999", str(LAST_YEAR + 1), "9999"]),
        (MonthConverter(), ["1", "01", "12"], ["0", "00", "13", "99"]),
    ],
)
def test_a_converter_takes_only_what_the_system_holds(converter, good, bad):
    for value in good:
        assert re.fullmatch(converter.regex, value) and converter.to_python(value) == int(value)
    for value in bad:
        if re.fullmatch(converter.regex, value):
            with pytest.raises(ValueError):
                converter.to_python(value)


@pytest.mark.parametrize("month", ["0001-01", "1999-12", "9999-12", HUGE, "2025-13"])
def test_a_grading_run_for_a_month_out_of_range_is_a_form_error_and_records_nothing(tree, users, login, month):
    client = login(users.committee)
    response = client.post(reverse("grading:runs", args=[tree.plant.pk]), {"month": month})
    assert response.status_code == 200
    assert response.context["form"].errors["month"]
    assert not GradingRun.objects.exists()


def test_the_month_form_error_names_the_range(tree, users, login):
    client = login(users.committee)
    client.cookies["django_language"] = "zh-hans"
    response = client.post(reverse("grading:runs", args=[tree.plant.pk]), {"month": "0001-01"})
    [message] = response.context["form"].errors["month"]
    assert message.startswith("请选择") and month_label(FIRST_MONTH) in message and month_label(LAST_MONTH) in message
    assert message in response.content.decode()


def test_the_grading_service_refuses_a_month_before_the_first(tree):
    with pytest.raises(ValidationError) as excinfo:
        grading.grading_run_request(committee=tree.plant, month=datetime.date(1, 1, 1))
    assert "month" in excinfo.value.message_dict
    assert not GradingRun.objects.exists()


def test_a_rule_version_cannot_take_effect_past_the_last_month(tree):
    """Its page computes the month after the newest version's: 9999-12 would have none."""
    default = RuleSet.objects.get(committee__isnull=True)
    with pytest.raises(ValidationError):
        RuleVersionForm.base_fields["effective_month"].clean("9999-12")
    with pytest.raises(ValidationError) as excinfo:
        rule_set_version_create(
            rule_set=default,
            committee=None,
            effective_month=datetime.date(9999, 12, 1),
            yearly_training_hours=Decimal("40"),
            note="",
            rules=[],
            user=None,
        )
    assert "effective_month" in excinfo.value.message_dict
    assert default.versions.count() == 1


def test_a_month_query_out_of_range_is_ignored(tree, users, member_a, login):
    client = login(users.secretary)
    response = client.get(reverse("ledger:entries"), {"month": "0001-01"})
    assert response.status_code == 200
    assert "month" in response.context["form"].errors
    assert response.context["month"] is None or response.context["month"].year >= FIRST_YEAR
    record = client.get(reverse("ledger:record", args=[member_a.pk]), {"month": "9999-12"})
    assert record.status_code == 200
    assert record.context["form"].initial["month"] == this_month()
