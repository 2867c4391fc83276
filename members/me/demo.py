"""The demo's member login and what it shows: a member of the showcase branch who can
sign in as ``member`` (the demo password, no first-login change), a suggestion of their
own in the workflow, and a Party lecture today whose page shows the QR sign-in code."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from branches.activities.models import Activity
from branches.activities.services import activity_create
from branches.models import OrgUnit
from members.models import Member
from members.suggestions.services import suggestion_submit

from .services import member_login_create, member_login_password_changed

DEMO_USERNAME = "member"


def demo_member(branch: OrgUnit) -> Member | None:
    """The showcase branch's first member in a party group without a login of their own."""
    return (
        Member.objects.filter(branch=branch, left_on__isnull=True, user__isnull=True, group__isnull=False)
        .order_by("employee_no")
        .first()
    )


def seed_member_login(*, branch: OrgUnit, secretary: AbstractBaseUser, password: str) -> dict:
    """The login ``member`` for a member of ``branch``, issued by ``secretary`` as the
    member page does, then renamed and given the demo password (already "changed", so
    the demo does not stop at the password page). Returns it for the login list."""
    member = demo_member(branch)
    if member is None:
        return {}
    member_login_create(member=member, user=secretary)
    member.refresh_from_db()
    user = member.user
    user.username = DEMO_USERNAME
    user.set_password(password)
    user.save(update_fields=["username", "password"])
    member_login_password_changed(user=user)
    return {DEMO_USERNAME: ("party member 党员", f"{member.name}, {branch.name}: only their own pages")}


def seed_member_view(*, branch: OrgUnit, secretary: AbstractBaseUser) -> dict[str, int]:
    """A suggestion the demo member put forward themselves, and today's Party lecture
    with its QR code (its page shows the code to the secretary)."""
    counts = {"suggestions": 0, "activities": 0}
    member = Member.objects.filter(user__username=DEMO_USERNAME, branch=branch).select_related("user").first()
    if member is None:
        return counts
    suggestion_submit(
        branch=branch,
        proposers=[member],
        title="连铸中间包烘烤改用蓄热式烧嘴",
        text="现用烧嘴热效率低、烘烤时间长。建议改用蓄热式烧嘴，缩短烘烤时间，降低煤气消耗。",
        field="cost",
        expected_benefit="预计每年节约煤气费用约15万元",
        user=member.user,
    )
    counts["suggestions"] += 1
    today = timezone.localdate()
    if not Activity.objects.filter(branch=branch, date=today, kind="party_lecture").exists():
        activity_create(
            branch=branch,
            kind="party_lecture",
            title="党课：学习贯彻党的二十届三中全会精神（扫码签到）",
            date=today,
            place="作业区会议室",
            host="支部书记",
            class_hours=Decimal("2"),
            user=secretary,
        )
        counts["activities"] += 1
    return counts
