import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from branches.services import month_close
from members.commitments import services
from members.commitments.models import CheckPublication, Commitment, CommitmentCheck, Period, Result
from members.ledger.models import LedgerEntry, Source

from .conftest import JUNE, PDF, YEAR

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked(branch_year):
    """Every commitment checked at mid-year, one with evidence."""
    for commitment in Commitment.objects.filter(year=YEAR):
        services.commitment_check_set(commitment=commitment, period=Period.MID, result=Result.MET, user=None)
    return services.commitment_check_set(
        commitment=branch_year.personal,
        period=Period.MID,
        result=Result.MET,
        user=None,
        evidence=SimpleUploadedFile("带徒记录.pdf", PDF),
    ).check


def every_url(tree, branch_year, check) -> list[tuple[str, str]]:
    """(method, url) of every commitments page, with real objects of branch A."""
    a, c = tree.branch_a.pk, branch_year.personal.pk
    milestone = branch_year.personal.milestones.get().pk
    urls = [
        ("get", reverse("commitments:branch_year", args=[a, YEAR])),
        ("get", reverse("commitments:create", args=[a, YEAR])),
        ("get", reverse("commitments:template_create", args=[a, YEAR])),
        ("post", reverse("commitments:template_give", args=[branch_year.template.pk])),
        ("get", reverse("commitments:detail", args=[c])),
        ("get", reverse("commitments:edit", args=[c])),
        ("post", reverse("commitments:delete", args=[c])),
        ("post", reverse("commitments:milestone_add", args=[c])),
        ("post", reverse("commitments:milestone_toggle", args=[milestone])),
        ("get", reverse("commitments:evidence", args=[check.pk])),
        ("get", reverse("commitments:rates", args=[tree.plant.pk, YEAR])),
    ]
    for period in Period.values:
        urls += [
            ("get", reverse(f"commitments:check_{period}", args=[a, YEAR])),
            ("post", reverse(f"commitments:check_cell_{period}", args=[c])),
            ("get", reverse(f"commitments:results_{period}", args=[a, YEAR])),
            ("post", reverse(f"commitments:publish_{period}", args=[a, YEAR])),
        ]
    return urls


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "nobody"])
def test_outsiders_get_404_on_every_url(tree, users, branch_year, checked, login, outsider):
    client = login(getattr(users, outsider))
    for method, url in every_url(tree, branch_year, checked):
        assert getattr(client, method)(url, {"result": "met"}).status_code == 404, (method, url)
    assert not LedgerEntry.objects.filter(source=Source.COMMITMENT, reverses__isnull=False).exists()


def test_the_secretary_opens_every_page_but_the_committees_rates(tree, users, branch_year, checked, login):
    client = login(users.secretary)
    for method, url in every_url(tree, branch_year, checked):
        if method == "get":
            expected = 404 if "/committee/" in url else 200
            assert client.get(url).status_code == expected, url


def test_the_secretary_cannot_publish(tree, users, branch_year, checked, login):
    client = login(users.secretary)
    response = client.post(reverse("commitments:publish_mid", args=[tree.branch_a.pk, YEAR]))
    assert response.status_code == 403
    assert not CheckPublication.objects.filter(state="published").exists()


def test_the_committee_publishes_and_the_secretary_then_sees_the_results(tree, users, branch_year, checked, login):
    results = reverse("commitments:results_mid", args=[tree.branch_a.pk, YEAR])
    secretary = login(users.secretary)
    page = secretary.get(results).content.decode()
    assert 'id="not-published"' in page and 'id="completion-rate"' not in page
    committee = login(users.committee)
    response = committee.post(reverse("commitments:publish_mid", args=[tree.branch_a.pk, YEAR]), {"note": "公示七天"})
    assert response.status_code == 302
    publication = CheckPublication.objects.get()
    assert publication.is_published and publication.published_by == users.committee
    page = login(users.secretary).get(results).content.decode()
    assert 'id="completion-rate">100.0%' in page
    assert all(m.name in page for m in branch_year.members)


def test_the_committee_page_shows_each_branchs_completion_rate(tree, users, branch_year, login):
    services.commitment_check_set(commitment=branch_year.personal, period=Period.MID, result=Result.MET, user=None)
    services.commitment_check_set(commitment=branch_year.own, period=Period.MID, result=Result.PARTLY, user=None)
    page = login(users.committee).get(reverse("commitments:rates", args=[tree.plant.pk, YEAR])).content.decode()
    # 1 of 5 commitments met: 20.0 %; no year-end check yet: no rate; branch B has none.
    assert 'data-rate="20.0"' in page and 'data-rate="0.0"' not in page
    assert f'id="rates-{tree.branch_b.pk}"' in page and f'id="rates-{tree.branch_x.pk}"' not in page


def test_the_grid_cell_saves_with_htmx_and_says_the_points(tree, users, branch_year, login):
    client = login(users.secretary)
    url = reverse("commitments:check_cell_mid", args=[branch_year.personal.pk])
    response = client.post(url, {"result": "partly", "note": "已带一名"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'role="status"' in body and "+2" in body
    check = CommitmentCheck.objects.get(commitment=branch_year.personal)
    assert check.result == Result.PARTLY and check.checked_by == users.secretary


def test_a_refused_htmx_save_says_why_in_place(tree, users, branch_year, login):
    services.commitment_check_set(commitment=branch_year.personal, period=Period.MID, result=Result.MET, user=None)
    month_close(committee=tree.plant, month=JUNE, user=None, reason="")
    client = login(users.secretary)
    url = reverse("commitments:check_cell_mid", args=[branch_year.personal.pk])
    response = client.post(url, {"result": "not_met"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in body and "2025" in body
    assert CommitmentCheck.objects.get(commitment=branch_year.personal).result == Result.MET
    assert LedgerEntry.objects.filter(source=Source.COMMITMENT).count() == 1


def test_the_check_grid_reads_a_constant_number_of_queries(
    tree, users, branch_year, login, django_assert_max_num_queries
):
    client = login(users.secretary)
    url = reverse("commitments:check_mid", args=[tree.branch_a.pk, YEAR])
    client.get(url)
    # 17: the page, the grid and the navbar's reminder bell (one count).
    with django_assert_max_num_queries(17) as few:
        assert client.get(url).status_code == 200
    from tests import factories as f

    for _ in range(15):
        f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    services.commitment_template_give(template=branch_year.template, user=None)
    for commitment in Commitment.objects.filter(year=YEAR)[:10]:
        services.commitment_check_set(commitment=commitment, period=Period.MID, result=Result.MET, user=None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_branch_year_and_rates_pages_read_a_constant_number_of_queries(
    tree, users, branch_year, login, django_assert_max_num_queries
):
    client = login(users.committee)
    for url in (
        reverse("commitments:branch_year", args=[tree.branch_a.pk, YEAR]),
        reverse("commitments:rates", args=[tree.plant.pk, YEAR]),
        reverse("commitments:results_mid", args=[tree.branch_a.pk, YEAR]),
    ):
        client.get(url)
        with django_assert_max_num_queries(20):
            assert client.get(url).status_code == 200, url


def test_a_secretary_gives_a_template_to_every_member_from_the_page(tree, users, member_a, login):
    client = login(users.secretary)
    response = client.post(
        reverse("commitments:template_create", args=[tree.branch_a.pk, YEAR]),
        {"text": "全员安全承诺：不违章、不违纪", "field": "safety", "target_text": "零违章"},
    )
    assert response.status_code == 302
    template = tree.branch_a.commitment_templates.get()
    give = reverse("commitments:template_give", args=[template.pk])
    client.post(give)
    client.post(give)
    assert Commitment.objects.filter(template=template).count() == 1
    page = client.get(reverse("commitments:branch_year", args=[tree.branch_a.pk, YEAR])).content.decode()
    assert "全员安全承诺" in page and member_a.name in page


def test_the_member_page_lists_the_members_commitments(tree, users, branch_year, login):
    services.commitment_check_set(commitment=branch_year.personal, period=Period.MID, result=Result.MET, user=None)
    page = login(users.secretary).get(branch_year.personal.member.get_absolute_url()).content.decode()
    assert 'id="member-commitments"' in page and "带好两名青工" in page and 'data-result="met"' in page


def test_a_commitment_is_recorded_with_milestones(tree, users, member_a, login):
    client = login(users.secretary)
    response = client.post(
        reverse("commitments:create", args=[tree.branch_a.pk, YEAR]),
        {
            "member": member_a.pk,
            "text": "全年提出合理化建议3条",
            "field": "production",
            "target_value": "3",
            "target_unit": "条",
            "due_on": "2025-12-31",
            "milestones": "2025-06-30 上半年提出1条\n下半年提出2条",
        },
    )
    assert response.status_code == 302
    commitment = Commitment.objects.get()
    assert commitment.target == "3 条"
    assert list(commitment.milestones.values_list("title", "due_on")) == [
        ("上半年提出1条", datetime.date(2025, 6, 30)),
        ("下半年提出2条", None),
    ]


def test_a_milestone_is_added_and_marked_done(tree, users, branch_year, login):
    client = login(users.secretary)
    commitment = branch_year.personal
    client.post(reverse("commitments:milestone_add", args=[commitment.pk]), {"title": "带徒满一年", "due_on": ""})
    milestone = commitment.milestones.get(title="带徒满一年")
    client.post(reverse("commitments:milestone_toggle", args=[milestone.pk]))
    milestone.refresh_from_db()
    assert milestone.done
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert "带徒满一年" in page and "bi-check-circle-fill" in page


def test_the_commitment_page_opens_for_committee_staff_and_is_404_for_another_committee(
    tree, users, branch_year, login
):
    page = login(users.committee).get(branch_year.personal.get_absolute_url())
    assert page.status_code == 200
    assert login(users.other_committee).get(branch_year.personal.get_absolute_url()).status_code == 404


def test_a_commitment_is_corrected_and_an_unchecked_one_deleted(tree, users, branch_year, login):
    client = login(users.secretary)
    personal = branch_year.personal
    response = client.post(
        reverse("commitments:edit", args=[personal.pk]),
        {"text": "带好三名青工", "field": "production", "target_value": "3", "target_unit": "名"},
    )
    assert response.status_code == 302
    personal.refresh_from_db()
    assert personal.text == "带好三名青工" and personal.target == "3 名"
    client.post(reverse("commitments:delete", args=[personal.pk]))
    assert not Commitment.objects.filter(pk=personal.pk).exists()


def test_a_checked_commitment_cannot_be_deleted(tree, users, branch_year, login):
    services.commitment_check_set(commitment=branch_year.own, period=Period.MID, result=Result.MET, user=None)
    client = login(users.secretary)
    response = client.post(reverse("commitments:delete", args=[branch_year.own.pk]), follow=True)
    assert Commitment.objects.filter(pk=branch_year.own.pk).exists()
    assert "alert" in response.content.decode()


def test_the_admin_lists_commitments_read_only(branch_year, users, login):
    users.admin.is_staff = users.admin.is_superuser = True
    users.admin.save()
    client = login(users.admin)
    for model in ("commitment", "commitmenttemplate", "commitmentcheck", "checkpublication"):
        assert client.get(f"/admin/commitments/{model}/", {"q": "安全"}).status_code == 200, model
    assert client.get(f"/admin/commitments/commitment/{branch_year.personal.pk}/delete/").status_code == 403


def test_the_member_ledger_links_commitment_points_to_the_commitment(branch_year, users, login):
    personal = branch_year.personal
    services.commitment_check_set(commitment=personal, period=Period.MID, result=Result.MET, user=None)
    url = reverse("ledger:member_ledger", args=[personal.member_id]) + "?year=2025"
    page = login(users.committee).get(url).content.decode()
    assert f'href="{reverse("commitments:detail", args=[personal.pk])}"' in page
