"""Translated content fields: topic names and campaign texts in Danish and English."""

from modeltranslation.translator import TranslationOptions, register

from newsletters.models import Campaign, Topic


@register(Topic)
class TopicTranslationOptions(TranslationOptions):
    fields = ("name", "description")


@register(Campaign)
class CampaignTranslationOptions(TranslationOptions):
    fields = ("subject", "body")
