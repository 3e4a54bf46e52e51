"""Forms participants fill in: profile, availability, request, catalogue filters, feedback."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from events.models import MeetingFeedback, Profile
from members.models import Segment, Tag


class ProfileForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Meeting languages"), choices=settings.LANGUAGES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Profile
        fields = [
            "display_name",
            "organisation_name",
            "kind",
            "headline_da",
            "headline_en",
            "offers_da",
            "offers_en",
            "seeks_da",
            "seeks_en",
            "offer_tags",
            "seek_tags",
            "segments",
            "languages",
        ]
        widgets = {
            "offer_tags": forms.CheckboxSelectMultiple,
            "seek_tags": forms.CheckboxSelectMultiple,
            "segments": forms.CheckboxSelectMultiple,
        }


class AvailabilityForm(forms.Form):
    unavailable = forms.ModelMultipleChoiceField(
        label=_("Slots I cannot take"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unavailable"].queryset = slots


class RequestForm(forms.Form):
    message = forms.CharField(
        label=_("Why would you like to meet?"), max_length=1000, min_length=10, widget=forms.Textarea(attrs={"rows": 4})
    )


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.all(), required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=[("", _("All types")), *Profile.Kind.choices], required=False)
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.all(), required=False)


class FeedbackForm(forms.Form):
    happened = forms.TypedChoiceField(
        label=_("Did the meeting happen?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    result = forms.ChoiceField(
        label=_("What came of it?"), choices=[("", "—"), *MeetingFeedback.Result.choices], required=False
    )
    comment = forms.CharField(label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea)
