"""The ledger in the Django admin: entries are read-only (append-only in the database
too; corrections are reversing entries made on the ledger pages), and rule sets are
read-mostly (new versions are made on the rule pages so past months keep their rules)."""

from django.contrib import admin

from .models import LedgerEntry, Rule, RuleSet, RuleSetVersion
from .rule_services import rule_set_version_note_set


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "member",
        "branch",
        "month",
        "rule",
        "category",
        "points",
        "source",
        "reverses",
        "recorded_by",
        "recorded_at",
    )
    list_filter = ("category", "source", "month", ("reverses", admin.EmptyFieldListFilter))
    search_fields = ("member__name", "member__employee_no", "rule__code", "rule__name", "reason")
    list_select_related = ("member", "branch", "rule", "reverses", "recorded_by")
    date_hierarchy = "month"
    # Plain ids instead of selects: an entry's form would otherwise list every member.
    raw_id_fields = ("member", "branch", "rule", "rule_version", "reverses", "recorded_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RuleInline(admin.TabularInline):
    model = Rule
    extra = 0
    can_delete = False
    fields = (
        "code",
        "name",
        "category",
        "source",
        "points_min",
        "points_max",
        "per_class_hour",
        "monthly_cap",
        "evidence_required",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    list_display = ("name", "committee", "created_at")
    search_fields = ("name", "committee__name")
    list_select_related = ("committee",)
    readonly_fields = ("committee",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(admin.ModelAdmin):
    """Only the note may change: the numbers are what months were graded with."""

    list_display = ("rule_set", "number", "effective_month", "yearly_training_hours", "created_by", "created_at")
    list_filter = ("rule_set",)
    search_fields = ("rule_set__name", "note")
    list_select_related = ("rule_set", "created_by")
    inlines = [RuleInline]

    def get_readonly_fields(self, request, obj=None):
        # Every field but the note: weights, bands and limits are changed by a new
        # version on the rule pages, never by rewriting one that graded a month.
        return [f.name for f in self.model._meta.concrete_fields if f.name not in ("id", "note")]

    def save_model(self, request, obj, form, change):
        rule_set_version_note_set(version=obj, note=form.cleaned_data.get("note", obj.note))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "source", "points_min", "points_max", "monthly_cap", "version")
    list_filter = ("category", "source", "evidence_required")
    search_fields = ("code", "name")
    list_select_related = ("version__rule_set",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
