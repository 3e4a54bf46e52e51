"""Which matchmaking profile texts exist in Danish and English."""

from modeltranslation.translator import TranslationOptions, register

from events.models import Profile


@register(Profile)
class ProfileTranslationOptions(TranslationOptions):
    fields = ("headline", "offers", "seeks")
