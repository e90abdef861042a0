"""The Data Rights Protocol's routes: its discovery document at the site's root, its API under ``/drp/`` (the
``api_base`` the document gives). Since 0.9.3 the exercise endpoint has no trailing slash; one is still taken."""

from django.urls import path, re_path

from dsar import drp_views

urlpatterns = [
    path(".well-known/data-rights.json", drp_views.discovery, name="drp-discovery"),
    path("drp/v1/agent/<str:agent_id>", drp_views.agent, name="drp-agent"),
    re_path(r"^drp/v1/data-rights-request/?$", drp_views.request_create, name="drp-request-create"),
    path("drp/v1/data-rights-request/<str:request_id>", drp_views.request_detail, name="drp-request-detail"),
]
