"""Member logins made through the service, as the secretary's pages make them."""

from members.me import services


def member_login(member, *, changed: bool = True, password: str = "member-pw-2025!"):
    """Give ``member`` a login; ``changed`` makes it one whose owner has already chosen
    ``password`` (the one-time password no longer stands)."""
    issued = services.member_login_create(member=member, user=None)
    member.refresh_from_db()
    user = member.user
    if changed:
        user.set_password(password)
        user.save(update_fields=["password"])
        services.member_login_password_changed(user=user)
    return user, issued
