from django.db import transaction
from django.urls import path

from dsar.api import views

urlpatterns = [
    path("requests/", views.RequestListCreate.as_view(), name="dsar-request-list"),
    path("requests/<int:pk>/", views.RequestDetail.as_view(), name="dsar-request-detail"),
    # Outside the per-request transaction: a wrong code must stay counted although the answer is a 400.
    path(
        "requests/<int:pk>/verify/",
        transaction.non_atomic_requests(views.RequestVerify.as_view()),
        name="dsar-request-verify",
    ),
    path("requests/<int:pk>/extend/", views.RequestExtend.as_view(), name="dsar-request-extend"),
    path("requests/<int:pk>/reject/", views.RequestReject.as_view(), name="dsar-request-reject"),
    path(
        "requests/<int:pk>/erasure-preview/", views.RequestErasurePreview.as_view(), name="dsar-request-erasure-preview"
    ),
    # Outside the per-request transaction: each erasure step commits with its progress, so an
    # interrupted run resumes where it stopped.
    path(
        "requests/<int:pk>/execute/",
        transaction.non_atomic_requests(views.RequestExecute.as_view()),
        name="dsar-request-execute",
    ),
    path("requests/<int:pk>/scan-hits/", views.RequestScanHits.as_view(), name="dsar-request-scan-hits"),
    path("requests/<int:pk>/report/", views.RequestReport.as_view(), name="dsar-request-report"),
    path("metrics/", views.RequestMetrics.as_view(), name="dsar-request-metrics"),
    path("exports/<str:token>/", views.export_download_view, name="dsar-export-download"),
]
