"""Read-only admin views: commitments, checks and publications change through the
pages (their services post and reverse points), never here."""

from django.contrib import admin

from .models import CheckPublication, Commitment, CommitmentCheck, CommitmentTemplate


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyAdmin):
    list_display = ["year", "branch", "member", "field", "text", "due_on"]
    list_filter = ["year", "field"]
    search_fields = ["text", "member__name", "branch__name"]
    list_select_related = ["branch", "member"]


@admin.register(CommitmentTemplate)
class CommitmentTemplateAdmin(ReadOnlyAdmin):
    list_display = ["year", "branch", "field", "text"]
    list_filter = ["year", "field"]
    search_fields = ["text", "branch__name"]
    list_select_related = ["branch"]


@admin.register(CommitmentCheck)
class CommitmentCheckAdmin(ReadOnlyAdmin):
    list_display = ["commitment", "period", "result", "checked_by", "checked_at"]
    list_filter = ["period", "result"]
    search_fields = ["commitment__text", "commitment__member__name"]
    list_select_related = ["commitment__member", "commitment__branch", "checked_by"]


@admin.register(CheckPublication)
class CheckPublicationAdmin(ReadOnlyAdmin):
    list_display = ["branch", "year", "period", "state", "published_by", "published_at"]
    list_filter = ["year", "period", "state"]
    list_select_related = ["branch", "published_by"]
