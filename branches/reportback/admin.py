"""The report-back in the admin: read-only, for audit. Setups, draws, sessions and
scores are written through the pages (and their services), never here."""

from django.contrib import admin

from .models import Draw, Setup


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Setup)
class SetupAdmin(ReadOnlyAdmin):
    list_display = ["committee", "cycle_start", "cycle_months", "draw_day", "scoring"]
    search_fields = ["committee__name"]


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ["setup", "month", "state", "trigger", "started_by", "started_at", "algorithm"]
    list_filter = ["state", "trigger"]
    search_fields = ["setup__committee__name", "seed"]
    date_hierarchy = "started_at"
