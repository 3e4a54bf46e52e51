"""Regions and hubs in the admin, with both languages side by side."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline

from common.admin import ACCESSIBLE_FORMFIELDS
from hubs.models import Hub, HubContact, Region


@admin.register(Region)
class RegionAdmin(TranslationAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


class HubContactInline(TranslationStackedInline):
    model = HubContact
    extra = 0
    fields = [("name", "ordering"), "role", ("email", "phone"), "photo"]
    formfield_overrides = ACCESSIBLE_FORMFIELDS


@admin.register(Hub)
class HubAdmin(TranslationAdmin):
    inlines = [HubContactInline]
    list_display = ["name", "city", "is_headquarters", "contact_email"]
    list_filter = ["is_headquarters", "regions"]
    search_fields = ["name", "city"]
    prepopulated_fields = {"slug": ("name_en",)}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Checkboxes rather than the admin's filter_horizontal widget: its script builds labels that screen readers
        # are told to ignore (axe: aria-prohibited-attr). Only staff users can be hub staff.
        kwargs["widget"] = forms.CheckboxSelectMultiple
        if db_field.name == "staff":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
