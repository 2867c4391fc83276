"""A member's login: the ``User`` linked by ``Member.user``, and what this app adds to it —
whether the password handed out is a one-time password still to be changed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberLogin(models.Model):
    """Issued by the branch secretary (one member, or the whole branch as an XLSX). The
    password handed out is known to whoever printed the sheet, so the login opens only
    the password change page until the member has chosen their own."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="member_login"
    )
    must_change_password = models.BooleanField(_("must change password"), default=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"))
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member login")
        verbose_name_plural = _("member logins")

    def __str__(self) -> str:
        return str(self.user)
