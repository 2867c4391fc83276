from django.urls import path

from . import views

app_name = "branches"

urlpatterns = [
    path("", views.unit_tree, name="tree"),
    path("<int:pk>/", views.unit_detail, name="unit_detail"),
    path("<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("<int:pk>/new/", views.unit_create, name="unit_create"),
    path("<int:pk>/term/", views.term_start, name="term_start"),
    path("<int:pk>/months/", views.committee_months, name="months"),
    path("<int:pk>/tracking/", views.committee_tracking, name="tracking"),
    path("<int:pk>/titles/new/", views.title_award, name="title_award"),
    path("<int:pk>/titles/<int:title_pk>/withdraw/", views.title_withdraw, name="title_withdraw"),
]
