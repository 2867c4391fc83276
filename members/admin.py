from django.contrib import admin

from .models import Member, MemberHonour, MemberRole, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False
    fields = ("branch", "group", "started_on", "ended_on", "end_reason", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        # Placement changes go through the transfer page so periods stay contiguous.
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("name", "employee_no", "branch", "group", "status", "joined_on", "left_on")
    list_filter = ("status", "gender", ("left_on", admin.EmptyFieldListFilter))
    search_fields = ("name", "employee_no", "phone", "branch__name")
    list_select_related = ("branch", "group")
    autocomplete_fields = ("branch", "group", "user")
    readonly_fields = ("branch", "group", "left_on")
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        # A new member needs a first membership period: use the roster's create page.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MemberRole)
class MemberRoleAdmin(admin.ModelAdmin):
    list_display = ("member", "role", "unit", "started_on", "ended_on")
    list_filter = ("role",)
    search_fields = ("member__name", "member__employee_no", "unit__name")
    list_select_related = ("member", "unit")
    autocomplete_fields = ("member", "unit", "term")


@admin.register(MemberHonour)
class MemberHonourAdmin(admin.ModelAdmin):
    list_display = ("member", "kind", "title", "stars", "awarded_on", "revoked_on")
    list_filter = ("kind", "stars")
    search_fields = ("member__name", "member__employee_no", "title")
    list_select_related = ("member",)
    autocomplete_fields = ("member",)
