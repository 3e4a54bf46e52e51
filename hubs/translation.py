from modeltranslation.translator import TranslationOptions, register

from hubs.models import Hub, HubContact, Region


@register(Region)
class RegionTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(Hub)
class HubTranslationOptions(TranslationOptions):
    fields = ("name", "description", "address")


@register(HubContact)
class HubContactTranslationOptions(TranslationOptions):
    fields = ("role",)
