from modeltranslation.translator import TranslationOptions, register

from pages.models import Page


@register(Page)
class PageTranslationOptions(TranslationOptions):
    fields = ("title", "body")
