"""Roster import pages: template download, upload → preview → confirm, and outsiders."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from members.imports import services
from members.imports.models import RosterUpload
from members.models import Member
from tests import factories as f

from .test_import_services import NEW_ROW, row_for, snapshot, workbook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, rows=None, *, content: bytes | None = None):
    data = content if content is not None else workbook(rows).getvalue()
    file = io.BytesIO(data)
    file.name = "roster.xlsx"
    return client.post(reverse("members:import"), {"file": file})


def token_of(response) -> str:
    assert response.status_code == 302, getattr(response, "context", None) and response.context["form"].errors
    return response["Location"].rstrip("/").split("/")[-1]


def statuses(response) -> list[str]:
    return [r.status for r in response.context["rows"]]


def test_the_template_has_the_chinese_headers_an_example_and_notes(tree, users, client):
    client.force_login(users.secretary)
    response = client.get(reverse("members:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet, notes = book.worksheets
    assert [c.value for c in sheet[1]] == [c.header for c in services.COLUMNS]
    assert sheet["G2"].value == "BRA"  # the example uses a branch the user may write to
    assert notes.max_row > 10


def test_the_filled_in_template_reads_back_as_a_valid_new_row(tree, users, client):
    from members.imports.template import roster_template

    [row] = services.parse_roster(io.BytesIO(roster_template(branch=tree.branch_a)), user=users.secretary)
    assert row.status == "new", row.errors


def test_a_secretary_previews_and_confirms_an_import_into_their_branch(tree, users, client):
    member = f.MemberFactory(branch=tree.branch_a, group=tree.group_a1)
    client.force_login(users.secretary)
    assert client.get(reverse("members:import")).status_code == 200
    token = token_of(upload(client, [NEW_ROW, row_for(member, 岗位="班长")]))
    preview = client.get(reverse("members:import_preview", args=[token]))
    assert preview.status_code == 200
    assert statuses(preview) == ["new", "changed"]
    assert b'id="import-confirm" disabled' not in preview.content
    assert not Member.objects.filter(employee_no="AG1001").exists()

    response = client.post(reverse("members:import_confirm", args=[token]))

    assert response.status_code == 302 and response["Location"] == reverse("members:roster")
    assert Member.objects.get(employee_no="AG1001").branch == tree.branch_a
    member.refresh_from_db()
    assert member.post == "班长"
    # The upload is gone: confirming twice does not import twice.
    assert client.post(reverse("members:import_confirm", args=[token])).status_code == 404


def test_rows_outside_the_secretarys_branch_are_errors_and_confirm_is_refused(tree, users, client):
    client.force_login(users.secretary)
    rows = [NEW_ROW, NEW_ROW | {"工号": "AG2", "所在支部编码": "BRB", "党小组": ""}]
    token = token_of(upload(client, rows))
    preview = client.get(reverse("members:import_preview", args=[token]))
    assert statuses(preview) == ["new", "error"]
    assert b'id="import-confirm" disabled' in preview.content
    before = snapshot()
    response = client.post(reverse("members:import_confirm", args=[token]))
    assert response.status_code == 409
    assert snapshot() == before


def test_committee_staff_import_anywhere_in_their_subtree(tree, users, client):
    client.force_login(users.committee)
    rows = [NEW_ROW, NEW_ROW | {"工号": "AG2", "所在支部编码": "BRB", "党小组": ""}]
    token = token_of(upload(client, rows))
    assert statuses(client.get(reverse("members:import_preview", args=[token]))) == ["new", "new"]
    assert client.post(reverse("members:import_confirm", args=[token])).status_code == 302
    assert set(Member.objects.values_list("branch__code", flat=True)) == {"BRA", "BRB"}


def test_confirm_checks_again_and_shows_the_preview_when_the_data_changed_meanwhile(tree, users, client):
    client.force_login(users.secretary)
    token = token_of(upload(client, [NEW_ROW, NEW_ROW | {"工号": "AG2"}]))
    f.MemberFactory(branch=tree.branch_x, employee_no="AG2")  # someone else took the number
    before = snapshot()
    response = client.post(reverse("members:import_confirm", args=[token]))
    assert response.status_code == 409
    assert statuses(response) == ["new", "error"]
    assert snapshot() == before


def test_a_failure_while_writing_shows_the_preview_with_the_reason_and_writes_nothing(tree, users, client, monkeypatch):
    from django.core.exceptions import ValidationError

    from members import services as member_services

    def refuse(**kwargs):
        raise ValidationError("refused")

    client.force_login(users.secretary)
    token = token_of(upload(client, [NEW_ROW]))
    monkeypatch.setattr(member_services, "member_create", refuse)
    response = client.post(reverse("members:import_confirm", args=[token]))
    assert response.status_code == 409 and "refused" in response.context["error"]
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    "content", [b"name,employee\nA,1\n", bytes(range(256)) * 4], ids=["text-renamed", "random-bytes"]
)
def test_an_upload_that_is_not_a_spreadsheet_is_refused_on_the_form(tree, users, client, settings, content):
    client.force_login(users.secretary)
    response = upload(client, content=content)
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not RosterUpload.objects.exists()
    assert not Member.objects.exists()


def test_a_user_without_writable_branches_gets_403_on_every_import_page(tree, users, client):
    client.force_login(users.secretary)
    token = token_of(upload(client, [NEW_ROW]))
    client.force_login(users.nobody)
    assert client.get(reverse("members:import")).status_code == 403
    assert client.get(reverse("members:import_template")).status_code == 403
    assert client.get(reverse("members:import_preview", args=[token])).status_code == 403
    assert client.post(reverse("members:import_confirm", args=[token])).status_code == 403
    assert not Member.objects.exists()


@pytest.mark.parametrize("outsider", ["other_secretary", "other_committee", "committee", "admin"])
def test_nobody_else_can_see_or_confirm_a_users_upload(tree, users, client, outsider):
    client.force_login(users.secretary)
    token = token_of(upload(client, [NEW_ROW]))
    client.force_login(getattr(users, outsider))
    assert client.get(reverse("members:import_preview", args=[token])).status_code == 404
    assert client.post(reverse("members:import_confirm", args=[token])).status_code == 404
    assert not Member.objects.exists()


def test_unknown_tokens_give_404_and_confirm_only_takes_post(tree, users, client):
    client.force_login(users.secretary)
    assert client.get(reverse("members:import_preview", args=["x" * 32])).status_code == 404
    assert client.post(reverse("members:import_confirm", args=["x" * 32])).status_code == 404
    token = token_of(upload(client, [NEW_ROW]))
    assert client.get(reverse("members:import_confirm", args=[token])).status_code == 405


def test_anonymous_visitors_are_sent_to_the_login_page(tree, client):
    for url in (reverse("members:import"), reverse("members:import_template")):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_workbook_is_read_once_and_confirm_checks_the_stored_rows_again(tree, users, client, monkeypatch):
    from members.imports import xlsx

    reads = []
    real = xlsx.read_first_sheet
    monkeypatch.setattr(xlsx, "read_first_sheet", lambda *args, **kwargs: reads.append(1) or real(*args, **kwargs))
    client.force_login(users.secretary)
    token = token_of(upload(client, [NEW_ROW, NEW_ROW | {"工号": "AG2"}]))
    assert statuses(client.get(reverse("members:import_preview", args=[token]))) == ["new", "new"]
    assert statuses(client.get(reverse("members:import_preview", args=[token]))) == ["new", "new"]
    assert client.post(reverse("members:import_confirm", args=[token])).status_code == 302
    assert len(reads) == 1
    assert set(Member.objects.values_list("employee_no", flat=True)) == {"AG1001", "AG2"}
    assert not RosterUpload.objects.exists()


def test_the_stored_rows_belong_to_the_uploader_and_hold_no_file(tree, users, client, settings):
    client.force_login(users.secretary)
    token = token_of(upload(client, [NEW_ROW]))
    stored = RosterUpload.objects.get()
    assert (stored.user, stored.token, stored.file_name) == (users.secretary, token, "roster.xlsx")
    assert stored.columns == [c.key for c in services.COLUMNS]
    assert stored.rows[0][0] == 2 and stored.rows[0][1][:4] == ["AG1001", "刘洋", "女", "1992-05-06"]
    assert not (settings.MEDIA_ROOT).exists()


def test_an_upload_expires_after_a_day_and_is_purged_by_the_next_one(tree, users, client):
    import datetime

    from django.utils import timezone

    client.force_login(users.secretary)
    token = token_of(upload(client, [NEW_ROW]))
    RosterUpload.objects.update(created_at=timezone.now() - datetime.timedelta(days=1, minutes=1))
    assert client.get(reverse("members:import_preview", args=[token])).status_code == 404
    assert client.post(reverse("members:import_confirm", args=[token])).status_code == 404
    assert not Member.objects.exists()
    fresh = token_of(upload(client, [NEW_ROW]))
    assert list(RosterUpload.objects.values_list("token", flat=True)) == [fresh]


def test_a_crafted_workbook_is_refused_on_the_form_quickly_with_a_clear_message(tree, users, client, work):
    from .test_import_xlsx import FIRST_READ, SHEET, STRINGS, shared_strings_bomb

    client.force_login(users.secretary)
    response = upload(client, content=shared_strings_bomb(3_000_000, declared=3_000_000))
    # The bounded reader's work, not a clock: the table was refused before it was parsed on.
    assert work.bytes[STRINGS] <= FIRST_READ and SHEET not in work.parts
    assert response.status_code == 200
    [message] = response.context["form"].errors["file"]
    assert "远超名册所需" in message
    assert not RosterUpload.objects.exists()


def test_the_preview_shows_the_understood_values_and_words_errors_like_the_badge(tree, users, client):
    client.force_login(users.secretary)
    rows = [
        NEW_ROW | {"出生日期": "1992年5月6日", "党员类别": "预备"},
        NEW_ROW | {"工号": "AG2", "出生日期": "1992-13-45", "所在支部编码": "BRX"},
    ]
    preview = client.get(reverse("members:import_preview", args=[token_of(upload(client, rows))]))
    html = preview.content.decode()
    assert '<td data-column="birth_date">1992-05-06</td>' in html
    assert '<td data-column="gender">女</td>' in html
    assert '<td data-column="status">预备党员</td>' in html
    assert '<td data-column="branch">连铸作业区党支部</td>' in html
    assert '<td data-column="group">第二党小组</td>' in html
    assert 'data-flagged="1">1992-13-45</td>' in html
    assert 'data-flagged="1">BRX</td>' in html
    # The result of an error row says 错误, as the badge does; the last column is 说明.
    assert '<span class="badge text-bg-danger">错误 1</span>' in html
    assert '<td class="text-nowrap">错误</td>' in html
    assert "<th>说明</th>" in html
    assert "错误信息" not in html
