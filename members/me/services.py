"""Member logins: issued one by one or for a whole branch, each with a one-time password
the member must change at their first login."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import OrgUnit, RoleBinding
from members.models import Member

from .models import MemberLogin

# No 0/O, 1/l/I: the password is read off a printed sheet.
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class IssuedLogin:
    member: Member
    username: str
    password: str  # shown once (page or sheet), never stored in clear


def one_time_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))


def _issue(*, member: Member, user: AbstractBaseUser | None) -> IssuedLogin:
    User = get_user_model()
    password = one_time_password()
    login = member.user
    if login is None:
        username = member.employee_no
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(
                {"member": _("The user name %(name)s is taken by another login.") % {"name": username}}
            )
        login = User(username=username, first_name=member.name[:150])
        login.set_password(password)
        login.save()
        member.user = login
        member.save(update_fields=["user", "updated_at"])
    else:
        # A login that also holds a role is a secretary's or staff's: not the branch's to reset.
        if login.is_superuser or RoleBinding.objects.filter(user=login).exists():
            raise ValidationError(
                {
                    "member": _("%(name)s's login also holds a role; an administrator resets its password.")
                    % {"name": member.name}
                }
            )
        login.set_password(password)
        login.is_active = True
        login.save(update_fields=["password", "is_active"])
    MemberLogin.objects.update_or_create(
        user=login,
        defaults={
            "must_change_password": True,
            "issued_by": user,
            "issued_at": timezone.now(),
            "password_changed_at": None,
        },
    )
    return IssuedLogin(member=member, username=login.get_username(), password=password)


@transaction.atomic
def member_login_create(*, member: Member, user: AbstractBaseUser | None) -> IssuedLogin:
    """Give ``member`` a login (user name: their employee number) with a one-time
    password, or issue a new one-time password for the login they have."""
    member = Member.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
    if not member.is_active:
        raise ValidationError({"member": _("%(name)s has left the Party organisation.") % {"name": member.name}})
    return _issue(member=member, user=user)


@transaction.atomic
def member_logins_create_for_branch(*, branch: OrgUnit, user: AbstractBaseUser | None) -> list[IssuedLogin]:
    """Logins for every current member of ``branch`` who has none yet (members who have
    one keep their password). All or nothing: one refusal issues nothing."""
    if not branch.is_branch or not branch.is_active:
        raise ValidationError({"branch": _("Logins are issued for an active branch.")})
    members = list(
        Member.objects.select_for_update()
        .filter(branch=branch, left_on__isnull=True, user__isnull=True)
        .order_by("employee_no")
    )
    if not members:
        raise ValidationError(
            {"branch": _("Every current member of %(branch)s has a login.") % {"branch": branch.name}}
        )
    return [_issue(member=member, user=user) for member in members]


@transaction.atomic
def member_login_password_changed(*, user: AbstractBaseUser) -> None:
    """The member chose their own password: the one-time password no longer stands."""
    MemberLogin.objects.filter(user=user, must_change_password=True).update(
        must_change_password=False, password_changed_at=timezone.now()
    )
