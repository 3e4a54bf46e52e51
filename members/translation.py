from modeltranslation.translator import TranslationOptions, register

from members.models import MembershipType, Organisation, Partner, Segment, Tag


@register(Segment)
class SegmentTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(Tag)
class TagTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(Organisation)
class OrganisationTranslationOptions(TranslationOptions):
    fields = ("description", "offers", "seeks")


@register(Partner)
class PartnerTranslationOptions(TranslationOptions):
    fields = ("name", "description")


@register(MembershipType)
class MembershipTypeTranslationOptions(TranslationOptions):
    fields = ("name", "description")
