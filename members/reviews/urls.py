from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("branch/<id:branch_pk>/<year:year>/", views.branch_review, name="branch_review"),
    path("committee/<id:committee_pk>/<year:year>/", views.committee_reviews, name="committee_reviews"),
    path("<id:pk>/", views.review_detail, name="detail"),
    path("<id:pk>/submit/", views.review_submit, name="submit"),
    path("<id:pk>/confirm/", views.review_confirm, name="confirm"),
    path("<id:pk>/return/", views.review_return, name="return"),
    path("<id:pk>/reopen/", views.review_reopen, name="reopen"),
    path("result/<id:pk>/support/", views.plan_create, name="plan_create"),
    path("support/<id:pk>/", views.plan_detail, name="plan_detail"),
    path("support/<id:pk>/close/", views.plan_close, name="plan_close"),
    path("member/<id:pk>/talks/", views.member_talks, name="member_talks"),
    path("member/<id:pk>/talks/new/", views.talk_create, name="talk_create"),
    path("talk/<id:pk>/edit/", views.talk_edit, name="talk_edit"),
    path("talk/<id:pk>/done/", views.talk_done, name="talk_done"),
]
