"""Reviews and talks in the Django admin, read-only: they are written on the app's pages
through the services, which check the grid, the cap and the moves."""

from django.contrib import admin

from .models import DemocraticReview, MemberTalk, ReviewResult, SupportPlan


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DemocraticReview)
class DemocraticReviewAdmin(ReadOnly):
    list_display = ("branch", "year", "state", "meeting", "confirmed_by", "confirmed_at")
    list_filter = ("year", "state")
    search_fields = ("branch__name", "branch__code")
    list_select_related = ("branch", "meeting", "confirmed_by")


@admin.register(ReviewResult)
class ReviewResultAdmin(ReadOnly):
    list_display = ("review", "member", "rating", "votes_for", "votes_cast")
    list_filter = ("rating", "review__year")
    search_fields = ("member__name", "member__employee_no")
    list_select_related = ("review__branch", "member")


@admin.register(SupportPlan)
class SupportPlanAdmin(ReadOnly):
    list_display = ("member", "review_on", "closed_on")
    search_fields = ("member__name", "member__employee_no")
    list_select_related = ("member", "result__review")


@admin.register(MemberTalk)
class MemberTalkAdmin(ReadOnly):
    list_display = ("member", "branch", "held_on", "kind", "talker_name", "follow_up_due", "follow_up_done_on")
    list_filter = ("kind",)
    search_fields = ("member__name", "member__employee_no", "talker_name")
    list_select_related = ("member", "branch")
