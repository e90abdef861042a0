from django.urls import path

from recordings.api import views

urlpatterns = [
    path("recordings/<int:recording_id>/", views.RecordingDetailApi.as_view(), name="recordings-recording-detail"),
    path("exports/", views.ExportCreateApi.as_view(), name="recordings-export-create"),
    path("exports/<int:export_id>/", views.ExportDetailApi.as_view(), name="recordings-export-detail"),
    path("exports/download/<str:token>/", views.ExportDownloadApi.as_view(), name="recordings-export-download"),
]
