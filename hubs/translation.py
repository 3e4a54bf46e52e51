from modeltranslation.translator import TranslationOptions, register

from hubs.models import Hub, Region


@register(Region)
class RegionTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(Hub)
class HubTranslationOptions(TranslationOptions):
    fields = ("name", "description", "address")
