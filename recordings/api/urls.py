from django.urls import path

from recordings.api import lists, views

urlpatterns = [
    path("calls/", lists.CallListApi.as_view(), name="recordings-call-list"),
    path("recordings/", lists.RecordingListApi.as_view(), name="recordings-recording-list"),
    path("tickets/", lists.TicketListApi.as_view(), name="recordings-ticket-list"),
    path("monitoring/", lists.MonitoringListApi.as_view(), name="recordings-monitoring-list"),
    path("texts/", lists.TextListApi.as_view(), name="recordings-text-list"),
    path("recordings/<int:recording_id>/", views.RecordingDetailApi.as_view(), name="recordings-recording-detail"),
    path("tickets/<int:ticket_id>/", views.TicketDetailApi.as_view(), name="recordings-ticket-detail"),
    path("tickets/<int:ticket_id>/restore/", views.TicketRestoreApi.as_view(), name="recordings-ticket-restore"),
    path("exports/", views.ExportCreateApi.as_view(), name="recordings-export-create"),
    path("exports/<int:export_id>/", views.ExportDetailApi.as_view(), name="recordings-export-detail"),
    path("exports/download/<str:token>/", views.ExportDownloadApi.as_view(), name="recordings-export-download"),
]
