"""The fixed pages in the admin, both languages side by side. Their set is fixed: staff edit, never add or delete."""

from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from pages.models import Page


@admin.register(Page)
class PageAdmin(TranslationAdmin):
    list_display = ["title", "kind", "updated_at"]
    readonly_fields = ["kind", "updated_at"]
    fields = ["kind", "title", "body", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
