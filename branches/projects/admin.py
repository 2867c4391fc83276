"""The admin edits the kinds and grade names; projects and challenges move only through
their workflow (the pages), so the admin shows them read-only."""

from django.contrib import admin

from .models import Challenge, ChallengeClaim, Project, ProjectKind, ProjectSettings, ProjectTransition, ValueRecord


@admin.register(ProjectKind)
class ProjectKindAdmin(admin.ModelAdmin):
    list_display = ("name", "committee", "sort_order")
    search_fields = ("name",)


@admin.register(ProjectSettings)
class ProjectSettingsAdmin(admin.ModelAdmin):
    list_display = ("committee", "grade_1_name", "grade_2_name", "grade_3_name")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "branch", "leader", "year", "state", "grade")
    list_filter = ("state", "year", "kind")
    search_fields = ("title", "branch__name")
    list_select_related = ("kind", "branch", "leader")


@admin.register(Challenge)
class ChallengeAdmin(ReadOnlyAdmin):
    list_display = ("title", "committee", "deadline", "state")
    search_fields = ("title",)


@admin.register(ChallengeClaim)
class ChallengeClaimAdmin(ReadOnlyAdmin):
    list_display = ("challenge", "branch", "leader", "pledge_by", "state")
    search_fields = ("challenge__title", "branch__name")


@admin.register(ValueRecord)
class ValueRecordAdmin(ReadOnlyAdmin):
    list_display = ("project", "month", "amount")
    search_fields = ("project__title",)


@admin.register(ProjectTransition)
class ProjectTransitionAdmin(ReadOnlyAdmin):
    list_display = ("project", "move", "from_state", "to_state", "user", "at")
    search_fields = ("project__title",)
