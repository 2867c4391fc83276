"""The event tables in Django's admin: to read, never to add, change or delete (the
database refuses those anyway)."""

from django.contrib import admin

from .models import TRACKED


class ReadOnlyEventAdmin(admin.ModelAdmin):
    list_display = ("pgh_created_at", "pgh_label", "pgh_obj_id", "pgh_context_id")
    list_filter = ("pgh_label",)
    ordering = ("-pgh_created_at", "-pgh_id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


for _tracked in TRACKED.values():
    admin.site.register(_tracked.event_model, ReadOnlyEventAdmin)
