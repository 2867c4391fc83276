from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from . import services
from .models import BranchTerm, BranchTitle, OrgUnit, RoleBinding


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "parent", "tier", "brand", "depth", "dissolved_on")
    list_filter = ("kind", "tier", "depth")
    search_fields = ("name", "code", "brand")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    # The first tracked month is set on the committee's page (``committee_tracking_set``
    # refuses a month that would un-track a published ranking).
    readonly_fields = ("path", "depth", "tracked_from")
    ordering = ("path",)

    def save_model(self, request, obj, form, change):
        # Paths are owned by the services: a new unit gets its path after insert, and a
        # move rewrites the whole subtree in one UPDATE.
        if not change:
            created = services.org_unit_create(
                kind=obj.kind,
                name=obj.name,
                code=obj.code,
                parent=obj.parent,
                brand=obj.brand,
                tier=obj.tier,
                established_on=obj.established_on,
                sort_order=obj.sort_order,
            )
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth
            return
        old_parent_id = OrgUnit.objects.filter(pk=obj.pk).values_list("parent_id", flat=True).get()
        super().save_model(request, obj, form, change)
        if obj.parent_id != old_parent_id and obj.parent is not None:
            try:
                services.org_unit_move(unit=obj, new_parent=obj.parent)
            except ValidationError as exc:
                OrgUnit.objects.filter(pk=obj.pk).update(parent_id=old_parent_id)
                messages.error(request, "; ".join(exc.messages))


@admin.register(BranchTerm)
class BranchTermAdmin(admin.ModelAdmin):
    list_display = ("branch", "number", "started_on", "ends_on", "length_years", "closed_on")
    list_filter = ("length_years",)
    search_fields = ("branch__name", "branch__code")
    list_select_related = ("branch",)
    autocomplete_fields = ("branch",)
    date_hierarchy = "ends_on"


@admin.register(BranchTitle)
class BranchTitleAdmin(admin.ModelAdmin):
    list_display = ("branch", "kind", "awarded_on", "withdrawn_on", "withdrawn_reason")
    list_filter = ("kind",)
    search_fields = ("branch__name",)
    list_select_related = ("branch",)
    autocomplete_fields = ("branch",)


@admin.register(RoleBinding)
class RoleBindingAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "unit__name", "unit__code")
    list_select_related = ("user", "unit")
    autocomplete_fields = ("unit", "user")


class RoleBindingInline(admin.TabularInline):
    model = RoleBinding
    extra = 1
    autocomplete_fields = ("unit",)


# Administrators give people their roles where they create the login.
admin.site.unregister(User)


@admin.register(User)
class PartybuildUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, RoleBindingInline]
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff", "last_login")
