"""The privacy center's addresses (namespace ``privacy``). The service's emails link to ``verify``, ``confirm`` and
``status`` by these paths: they are part of what was sent and do not change."""

from django.urls import path

from dsar.center import views

app_name = "privacy"

urlpatterns = [
    path("<slug:slug>/", views.center_view, name="center"),
    path("<slug:slug>/agent/", views.agent_view, name="agent"),
    path("<slug:slug>/sent/<uuid:public_id>/", views.sent_view, name="sent"),
    path("<slug:slug>/confirm/<uuid:public_id>/", views.confirm_view, name="confirm"),
    path("<slug:slug>/verify/<str:token>/", views.verify_view, name="verify"),
    path("<slug:slug>/status/<str:token>/", views.status_view, name="status"),
    path("<slug:slug>/status/<str:token>/withdraw/", views.withdraw_view, name="withdraw"),
    path("<slug:slug>/status/<str:token>/report/", views.report_view, name="report"),
]
