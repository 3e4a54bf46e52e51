"""Regions and hubs in the admin, with both languages side by side."""

from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from hubs.models import Hub, Region


@admin.register(Region)
class RegionAdmin(TranslationAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Hub)
class HubAdmin(TranslationAdmin):
    list_display = ["name", "city", "is_headquarters", "contact_email"]
    list_filter = ["is_headquarters", "regions"]
    search_fields = ["name", "city"]
    filter_horizontal = ["regions", "staff"]
    prepopulated_fields = {"slug": ("name_en",)}
