from .access import user_scope


def access(request):
    """Expose the user's roles to the base layout so navigation shows only what they may do."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = user_scope(user)
    return {"scope": scope, "user_roles": scope.roles}
