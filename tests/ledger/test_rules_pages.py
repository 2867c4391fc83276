"""The rule-set pages: who sees what, who may create versions, outsiders, query counts."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from branches.choices import ActivityKind, AttendanceStatus
from members.ledger.models import Category, Rule, RuleSet, RuleSetVersion, Source
from members.ledger.rule_services import rule_set_version_create

from .. import factories as f

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2025, 4, 15, 10, 0)
MAY = datetime.date(2025, 5, 1)


@pytest.fixture(autouse=True)
def _april_2025(time_machine):
    time_machine.move_to(TODAY)


@pytest.fixture
def default():
    return RuleSet.objects.get(committee__isnull=True)


def customise(committee, month=MAY, **kwargs) -> RuleSet:
    return rule_set_version_create(
        rule_set=None,
        committee=committee,
        effective_month=month,
        yearly_training_hours=Decimal("40"),
        note="",
        rules=kwargs.pop("rules", []),
        user=None,
    ).rule_set


@pytest.fixture
def plant_rules(tree):
    """PLANT's own rules (version 1 from May 2025)."""
    return customise(tree.plant)


def detail(rule_set, **params) -> str:
    url = reverse("ledger:ruleset_detail", args=[rule_set.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def new_version_url(rule_set) -> str:
    return reverse("ledger:ruleset_version_create", args=[rule_set.pk])


def customise_url(committee) -> str:
    return reverse("ledger:ruleset_customise", args=[committee.pk])


def form_data(rule_set_or_version, **overrides) -> dict[str, str]:
    """A full POST of the new-version form as a browser sends it: the version's
    parameters, rules, requirements and scored items as they are."""
    version = rule_set_or_version
    if isinstance(version, RuleSet):
        version = version.versions.order_by("-effective_month").first()
    data = {"effective_month": "2025-06", "yearly_training_hours": "40", "note": "调整"}
    for name in RuleSetVersion.GRADING_FIELDS:
        value = getattr(version, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    for rule in version.rules.all():
        prefix = f"rules-{rule.code}-"
        data[prefix + "name"] = rule.name
        data[prefix + "points_min"] = str(rule.points_min)
        data[prefix + "points_max"] = str(rule.points_max)
        data[prefix + "monthly_cap"] = "" if rule.monthly_cap is None else str(rule.monthly_cap)
        if rule.evidence_required:
            data[prefix + "evidence_required"] = "on"
    for i, r in enumerate(version.requirements.all()):
        data[f"requirements-{i}-kind"] = r.kind
        data[f"requirements-{i}-frequency"] = r.frequency
        data[f"requirements-{i}-due_month"] = "" if r.due_month is None else str(r.due_month)
        if r.per_group:
            data[f"requirements-{i}-per_group"] = "on"
    for i, item in enumerate(version.score_items.all()):
        data[f"items-{i}-code"] = item.code
        data[f"items-{i}-dimension"] = item.dimension
        data[f"items-{i}-name"] = item.name
        data[f"items-{i}-max_score"] = str(item.max_score)
    data.update(overrides)
    return data


# --- rendering for each role ------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "committee", "secretary"])
def test_the_list_shows_the_rule_sets_with_the_version_in_force(default, plant_rules, users, login, role):
    response = login(getattr(users, role)).get(reverse("ledger:ruleset_list"))
    assert response.status_code == 200
    rows = {rs.pk: rs for rs in response.context["rule_sets"]}
    assert set(rows) == {default.pk, plant_rules.pk}
    # In April 2025 the default is at version 1 (since 2000-01); PLANT's starts in May.
    assert (rows[default.pk].version_count, rows[default.pk].current_number) == (1, 1)
    assert rows[default.pk].current_effective_month == datetime.date(2000, 1, 1)
    assert (rows[plant_rules.pk].version_count, rows[plant_rules.pk].current_number) == (1, None)
    html = response.content.decode()
    assert default.name in html and plant_rules.name in html and "系统启用起" in html and "2000-01" not in html


def test_the_list_offers_customising_to_the_staff_of_a_committee_without_own_rules(tree, users, login):
    html = login(users.committee).get(reverse("ledger:ruleset_list")).content.decode()
    assert customise_url(tree.plant) in html
    assert customise_url(tree.other) not in html and customise_url(tree.root) not in html
    html = login(users.secretary).get(reverse("ledger:ruleset_list")).content.decode()
    assert "/rules/customise/" not in html


@pytest.mark.parametrize("role", ["admin", "committee", "secretary"])
def test_the_detail_page_shows_the_rules_of_the_version_in_force(default, users, login, role):
    response = login(getattr(users, role)).get(detail(default))
    assert response.status_code == 200
    assert response.context["selected"] == response.context["current"] == default.versions.get()
    html = response.content.decode()
    for rule in default.versions.get().rules.all():
        assert rule.name in html
    # Rules read by their names; the codes stay out of sight.
    assert "exemplary_award" not in html.replace('data-code="exemplary_award"', "")
    assert "<code>" not in html
    # Category and source labels, activity kinds and statuses, in the page's language.
    with translation.override("zh-hans"):
        labels = [
            Category.DEDUCTION.label,
            Category.TRAINING.label,
            Source.MANUAL.label,
            Source.SUGGESTION.label,
            ActivityKind.THEMED_DAY.label,
            ActivityKind.VOLUNTEER.label,
            AttendanceStatus.EXCUSED.label,
        ]
        for label in labels:
            assert str(label) in html, label


def test_the_detail_page_shows_a_chosen_version_and_marks_the_scheduled_one(default, users, login):
    rule_set_version_create(
        rule_set=default,
        committee=None,
        effective_month=MAY,
        yearly_training_hours=Decimal("48"),
        note="五月起",
        rules=[{"code": "study_task", "name": "五月起的学习任务"}],
        user=users.admin,
    )
    client = login(users.secretary)
    now = client.get(detail(default))
    assert now.context["selected"].number == 1
    assert "五月起的学习任务" not in now.content.decode()
    assert "五月起" in now.content.decode()  # the note in the version list
    later = client.get(detail(default, version=2))
    assert later.context["selected"].number == 2
    assert "五月起的学习任务" in later.content.decode()
    assert client.get(detail(default, version=9)).status_code == 404
    assert client.get(detail(default, version="x")).status_code == 404


def test_create_buttons_show_only_to_those_who_may_create(default, plant_rules, users, login):
    def has_button(user, rule_set) -> bool:
        return new_version_url(rule_set) in login(user).get(detail(rule_set)).content.decode()

    assert has_button(users.admin, default) and has_button(users.admin, plant_rules)
    assert has_button(users.committee, plant_rules)
    assert not has_button(users.committee, default)
    assert not has_button(users.secretary, default)
    assert not has_button(users.secretary, plant_rules)


# --- creating a version in the browser -------------------------------------------------


def test_the_new_version_form_is_prefilled_from_the_newest_version(plant_rules, users, login):
    response = login(users.committee).get(new_version_url(plant_rules))
    assert response.status_code == 200
    form = response.context["form"]
    # Next month after today (May) is taken by version 1, so the form suggests June.
    assert form.initial["effective_month"] == datetime.date(2025, 6, 1)
    assert form.initial["rules-exemplary_award-points_max"] == Decimal("10")
    html = response.content.decode()
    assert 'type="month"' in html and 'value="2025-06"' in html
    assert 'name="rules-deduction-points_min"' in html


def test_committee_staff_create_a_version_of_their_committees_rules(plant_rules, users, login):
    data = form_data(plant_rules, **{"rules-volunteer-points_min": "4", "rules-volunteer-points_max": "4"})
    response = login(users.committee).post(new_version_url(plant_rules), data)
    version = plant_rules.versions.get(number=2)
    assert response.status_code == 302
    assert response["Location"] == detail(plant_rules, version=2)
    assert (version.effective_month, version.note, version.created_by) == (
        datetime.date(2025, 6, 1),
        "调整",
        users.committee,
    )
    assert version.rules.get(code="volunteer").points_min == Decimal("4")
    assert version.rules.get(code="exemplary_award").evidence_required


def test_an_admin_creates_a_version_of_the_default_rules(default, users, login):
    response = login(users.admin).post(
        new_version_url(default), form_data(default, effective_month="2025-05", yearly_training_hours="36")
    )
    assert response.status_code == 302
    assert default.versions.get(number=2).yearly_training_hours == Decimal("36")


def test_service_errors_land_next_to_the_rule_they_are_about(default, users, login):
    data = form_data(default, effective_month="2000-01", **{"rules-deduction-points_max": "2"})
    response = login(users.admin).post(new_version_url(default), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "effective_month" in errors and "rules-deduction-points_max" in errors
    assert default.versions.count() == 1
    assert "table-danger" in response.content.decode()


# --- customising ----------------------------------------------------------------------


def test_committee_staff_customise_their_committees_rules(default, tree, users, login):
    client = login(users.committee)
    page = client.get(customise_url(tree.plant))
    assert page.status_code == 200
    assert page.context["base"] == default.versions.get()
    response = client.post(customise_url(tree.plant), form_data(default, effective_month="2025-05"))
    own = RuleSet.objects.get(committee=tree.plant)
    assert response.status_code == 302 and response["Location"] == detail(own, version=1)
    assert own.versions.get().rules.count() == default.versions.get().rules.count()
    # Once customised, the page leads to a new version of the committee's own rules.
    again = client.get(customise_url(tree.plant))
    assert again.status_code == 302 and again["Location"] == new_version_url(own)


def test_only_a_committee_can_be_customised_and_only_by_its_staff_or_an_admin(tree, users, login):
    assert login(users.admin).get(customise_url(tree.other)).status_code == 200
    assert login(users.admin).get(customise_url(tree.branch_a)).status_code == 404
    # PLANT's staff see the branches under them, but those are no committees.
    assert login(users.committee).get(customise_url(tree.branch_a)).status_code == 404


def test_staff_of_a_committee_above_may_not_customise_the_one_below(tree, users, login):
    root_staff = f.user_with_role("committee_staff", tree.root, username="root_staff")
    assert login(root_staff).get(customise_url(tree.plant)).status_code == 403
    assert login(root_staff).get(customise_url(tree.root)).status_code == 200


# --- read-only and outsiders ---------------------------------------------------------------


def test_a_secretary_reads_but_gets_403_when_creating(default, plant_rules, users, login):
    client = login(users.secretary)
    for rule_set in (default, plant_rules):
        assert client.get(detail(rule_set)).status_code == 200
        assert client.get(new_version_url(rule_set)).status_code == 403
        assert client.post(new_version_url(rule_set), form_data(rule_set)).status_code == 403
    assert default.versions.count() == 1 and plant_rules.versions.count() == 1


def test_a_secretary_gets_404_for_rules_outside_their_scope(tree, users, login):
    other_rules = customise(tree.other)
    client = login(users.secretary)
    assert client.get(detail(other_rules)).status_code == 404
    assert client.post(new_version_url(other_rules), form_data(other_rules)).status_code == 404
    # Customising is for committees, which lie above a secretary's branch: outside.
    assert client.get(customise_url(tree.plant)).status_code == 404
    assert client.post(customise_url(tree.plant), {}).status_code == 404


def test_committee_staff_get_403_on_the_default_rules(default, users, login):
    client = login(users.committee)
    assert client.get(new_version_url(default)).status_code == 403
    assert client.post(new_version_url(default), form_data(default)).status_code == 403
    assert default.versions.count() == 1


@pytest.mark.parametrize("outsider", ["other_committee", "other_secretary"])
def test_an_outsider_gets_404_on_another_committees_own_rules(plant_rules, tree, users, login, outsider):
    client = login(getattr(users, outsider))
    for method, url in (
        ("get", detail(plant_rules)),
        ("get", detail(plant_rules, version=1)),
        ("get", new_version_url(plant_rules)),
        ("post", new_version_url(plant_rules)),
        ("get", customise_url(tree.plant)),
        ("post", customise_url(tree.plant)),
    ):
        response = getattr(client, method)(url, form_data(plant_rules) if method == "post" else None)
        assert response.status_code == 404, (outsider, method, url, response.status_code)
    assert plant_rules.name not in client.get(reverse("ledger:ruleset_list")).content.decode()
    assert plant_rules.versions.count() == 1


def test_someone_without_any_role_gets_404_everywhere(default, plant_rules, tree, users, login):
    client = login(users.nobody)
    for method, url in (
        ("get", reverse("ledger:ruleset_list")),
        ("get", detail(default)),
        ("get", detail(plant_rules)),
        ("get", new_version_url(default)),
        ("post", new_version_url(default)),
        ("get", new_version_url(plant_rules)),
        ("get", customise_url(tree.other)),
        ("post", customise_url(tree.other)),
    ):
        assert getattr(client, method)(url).status_code == 404, (method, url)


def test_an_unknown_rule_set_gives_the_same_404(users, login):
    assert login(users.admin).get(detail(RuleSet(pk=999999))).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(default, client):
    for url in (reverse("ledger:ruleset_list"), detail(default), new_version_url(default)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- query counts ----------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_versions(rule_set, n, *, start=MAY):
    month = start
    for _ in range(n):
        last = rule_set.versions.order_by("-effective_month").first()
        month = max(month, (last.effective_month + datetime.timedelta(days=32)).replace(day=1))
        rule_set_version_create(
            rule_set=rule_set,
            committee=None,
            effective_month=month,
            yearly_training_hours=Decimal("40"),
            note="",
            rules=[],
            user=None,
        )


def test_the_list_query_count_does_not_grow_with_rule_sets_or_versions(default, tree, users, login):
    client = login(users.admin)
    few = count_queries(client, reverse("ledger:ruleset_list"))
    plant = customise(tree.plant)
    customise(tree.other)
    for i in range(3):
        customise(f.committee(name=f"二级党委{i}", code=f"SUB{i}", parent=tree.plant))
    add_versions(default, 4)
    add_versions(plant, 3, start=datetime.date(2025, 6, 1))
    assert count_queries(client, reverse("ledger:ruleset_list")) == few


def test_the_detail_query_count_does_not_grow_with_rules_or_versions(default, users, login):
    client = login(users.admin)
    few = count_queries(client, detail(default))
    add_versions(default, 5, start=datetime.date(2024, 1, 1))
    current = default.versions.order_by("-effective_month").first()
    Rule.objects.bulk_create(
        Rule(
            version=current,
            code=f"extra_{i}",
            name=f"附加规则{i}",
            category="exemplary",
            source="manual",
            points_min=Decimal("1"),
            points_max=Decimal("2"),
            sort_order=100 + i,
        )
        for i in range(15)
    )
    assert count_queries(client, detail(default)) == few
    assert count_queries(client, detail(default, version=1)) == few


def test_the_new_version_form_query_count_does_not_grow_with_rules_or_versions(default, users, login):
    client = login(users.admin)
    few = count_queries(client, new_version_url(default))
    add_versions(default, 5, start=datetime.date(2024, 1, 1))
    assert count_queries(client, new_version_url(default)) == few
