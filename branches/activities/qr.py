"""QR sign-in tokens (扫码签到). The code an activity page shows is a URL carrying a
signed token: the activity's id and the moment it was made, under the site's secret
(``TimestampSigner`` with a salt of its own). It proves the scanner saw the code of
*this* activity recently: a token is refused for any other activity (the id is part of
what is signed) and after ``MAX_AGE`` (the page fetches a fresh code well before), and
signing in is open only on the activity's day."""

import datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Activity

SALT = "partybuild.activities.qr-sign-in"
MAX_AGE = datetime.timedelta(minutes=10)
REFRESH_SECONDS = 240  # how often the page shows a fresh code (well inside MAX_AGE)


def qr_token(activity: Activity) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(activity.pk))


def qr_token_check(*, token: str, activity: Activity, today: datetime.date) -> None:
    """Raise ``ValidationError`` (saying why) unless ``token`` is a live code of ``activity``."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(_("This code has expired: scan the code shown now.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This is not a sign-in code of this system.")) from None
    if value != str(activity.pk):
        raise ValidationError(_("This code belongs to another activity."))
    if activity.is_cancelled:
        raise ValidationError(_("The activity has been cancelled."))
    if activity.date != today:
        raise ValidationError(_("Signing in by code is open on the day of the activity only."))
