"""Public member pages and a company admin's pages."""

from django.urls import path

from members import invoice_views, views

app_name = "members"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("partners/", views.partners, name="partners"),
    path("apply/", views.apply, name="apply"),
    path("apply/thanks/", views.apply_done, name="apply_done"),
    path("terms/", views.terms, name="terms"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("manage/<int:pk>/", views.organisation_manage, name="manage"),
    path("manage/<int:pk>/edit/", views.organisation_edit, name="edit"),
    path("manage/<int:pk>/invite/", views.invite, name="invite"),
    path("manage/<int:pk>/invitations/<int:invitation_pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("manage/<int:pk>/colleagues/<int:user_pk>/remove/", views.colleague_remove, name="colleague_remove"),
    path("manage/<int:pk>/colleagues/<int:user_pk>/role/", views.colleague_role, name="colleague_role"),
    path("manage/<int:pk>/colleagues/<int:user_pk>/hand-on/", views.admin_hand_on, name="hand_on"),
    path("manage/<int:pk>/export/", views.contacts_export, name="export"),
    path("manage/<int:pk>/billing/", views.billing_details, name="billing"),
    path("manage/<int:pk>/membership/", views.membership, name="membership"),
    path("manage/<int:pk>/membership/next/", views.membership_next_period, name="membership_next"),
    path("manage/<int:pk>/membership/cancel/", views.membership_cancel, name="membership_cancel"),
    path("manage/<int:pk>/invoices/", invoice_views.invoice_list, name="invoices"),
    path("manage/<int:pk>/invoices/<str:number>.pdf", invoice_views.invoice_pdf, name="invoice_pdf"),
    path("manage/<int:pk>/invoices/<str:number>.xml", invoice_views.invoice_xml, name="invoice_xml"),
    path("<slug:slug>/", views.organisation_detail, name="organisation"),
]
