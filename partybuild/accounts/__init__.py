"""Logins: the two-step login with a TOTP code (django-otp) for those who turned it on,
its setup page, and the idle timeout of sessions. The password change is members.me's
``PasswordChange`` (Django's PasswordChangeView), one view for every user."""
