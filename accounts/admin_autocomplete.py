"""Admin autocomplete widgets that survive a re-displayed form whose posted value is not a key at all."""

from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError


class _KnownValuesOnly:
    """Django's autocomplete widget looks the posted values up to show them again; a value that is no key (say 10,000
    'x' for an integer id) made that lookup raise and the page answer 500. Such values are simply not shown: the form
    already reports the field as invalid."""

    def optgroups(self, name, value, attr=None):
        target = self.field.target_field
        known = []
        for item in value:
            try:
                target.to_python(item)
            except (ValidationError, TypeError, ValueError):
                continue
            known.append(item)
        return super().optgroups(name, known, attr)


class CheckedAutocompleteSelect(_KnownValuesOnly, AutocompleteSelect):
    pass


class CheckedAutocompleteSelectMultiple(_KnownValuesOnly, AutocompleteSelectMultiple):
    pass


class CheckedAutocompleteMixin:
    """For a ModelAdmin or inline with `autocomplete_fields`: the same widgets, answering bad posted values with
    the form's error instead of a 500."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)
