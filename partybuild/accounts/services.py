"""TOTP devices (django-otp's ``TOTPDevice``): who may turn two-factor login on, the
setup (an unconfirmed device until a code from it is entered) and the check at login."""

from base64 import b32encode
from binascii import unhexlify

import segno
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from branches.access import user_scope
from branches.models import RoleBinding


def may_use_two_factor(user: AbstractBaseUser) -> bool:
    """Administrators and committee staff may turn two-factor login on."""
    scope = user_scope(user)
    return scope.is_admin or RoleBinding.Role.COMMITTEE_STAFF in scope.roles


def confirmed_device(user_id: int) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user_id, confirmed=True).first()


def pending_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


@transaction.atomic
def totp_device_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """A new secret, not yet in force: it counts only once a code from it is confirmed.
    Starting again replaces an unconfirmed secret (a lost or mistyped scan)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Turn two-factor login on if ``token`` is the device's current code."""
    if device.confirmed or not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def secret_of(device: TOTPDevice) -> str:
    """The secret as an authenticator app takes it typed in (base32, in groups of four)."""
    secret = b32encode(unhexlify(device.key.encode())).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """The device's otpauth:// URL as an inline SVG QR code (segno; no scripts, no styles)."""
    return mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))
