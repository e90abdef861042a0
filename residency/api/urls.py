from django.urls import path

from residency.api import views

urlpatterns = [
    path("regions/", views.RegionList.as_view(), name="region-list"),
    path("products/", views.ProductList.as_view(), name="product-list"),
    path("data-categories/", views.DataCategoryList.as_view(), name="data-category-list"),
    path("hosting-offers/", views.HostingOfferList.as_view(), name="hosting-offer-list"),
    path("transient-routes/", views.TransientRouteList.as_view(), name="transient-route-list"),
    path("retention-rules/", views.RetentionRuleList.as_view(), name="retention-rule-list"),
    path("integrations/", views.IntegrationList.as_view(), name="integration-list"),
    path("sub-processors/", views.SubProcessorList.as_view(), name="sub-processor-list"),
    path("accounts/", views.AccountListCreate.as_view(), name="account-list"),
    path("accounts/<int:pk>/", views.AccountDetail.as_view(), name="account-detail"),
    path("accounts/<int:pk>/residency/", views.AccountResidency.as_view(), name="account-residency"),
    path("accounts/<int:pk>/processing-record/", views.AccountProcessingRecord.as_view(), name="account-processing-record"),
    path("accounts/<int:pk>/notices/", views.AccountNotices.as_view(), name="account-notices"),
]
