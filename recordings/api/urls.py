from django.urls import path

from recordings.api import views

urlpatterns = [
    path("recordings/<int:recording_id>/", views.RecordingDetailApi.as_view(), name="recordings-recording-detail"),
    path("tickets/<int:ticket_id>/", views.TicketDetailApi.as_view(), name="recordings-ticket-detail"),
    path("tickets/<int:ticket_id>/restore/", views.TicketRestoreApi.as_view(), name="recordings-ticket-restore"),
    path("exports/", views.ExportCreateApi.as_view(), name="recordings-export-create"),
    path("exports/<int:export_id>/", views.ExportDetailApi.as_view(), name="recordings-export-detail"),
    path("exports/download/<str:token>/", views.ExportDownloadApi.as_view(), name="recordings-export-download"),
]
