"""The site's fixed pages (privacy policy, contact, imprint): texts that staff keep up to date in both languages."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Page(models.Model):
    class Kind(models.TextChoices):
        PRIVACY = "privacy", _("Privacy policy")
        CONTACT = "contact", _("Contact")
        IMPRINT = "imprint", _("Imprint")

    kind = models.CharField(_("page"), max_length=20, choices=Kind.choices, unique=True)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), help_text=_("Markdown: # heading, **bold**, [link](https://…), - list item."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["kind"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse(f"pages:{self.kind}")
