"""Which event texts exist in Danish and English."""

from modeltranslation.translator import TranslationOptions, register

from events.models import Event, Question, QuestionOption


@register(Event)
class EventTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body", "venue_name")


@register(Question)
class QuestionTranslationOptions(TranslationOptions):
    fields = ("label", "help_text")


@register(QuestionOption)
class QuestionOptionTranslationOptions(TranslationOptions):
    fields = ("label",)


import events.matchmaking.translation  # noqa: E402,F401  (matchmaking profile texts)
