"""Suggestions in the admin, read-only: they move only through their services, which
post and reverse their points (a state changed here would leave the ledger behind)."""

from django.contrib import admin

from .models import Suggestion, SuggestionTransition


class TransitionInline(admin.TabularInline):
    model = SuggestionTransition
    extra = 0
    can_delete = False
    fields = ("move", "from_state", "to_state", "reason", "user", "at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("title", "branch", "field", "state", "submitted_on", "realised_value")
    list_filter = ("state", "field")
    search_fields = ("title", "branch__name", "proposers__name")
    list_select_related = ("branch",)
    inlines = [TransitionInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
