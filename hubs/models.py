"""The five Danish regions and the cluster's regional hubs, with the staff who run each hub."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Hub(models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    city = models.CharField(_("city"), max_length=80)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_headquarters = models.BooleanField(_("headquarters"), default=False)
    regions = models.ManyToManyField(Region, related_name="hubs", verbose_name=_("regions served"), blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="staffed_hubs", verbose_name=_("hub staff"), blank=True
    )
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=0)

    class Meta:
        verbose_name = _("hub")
        verbose_name_plural = _("hubs")
        ordering = ["ordering", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_headquarters"], condition=models.Q(is_headquarters=True), name="hubs_one_headquarters"
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("hubs:detail", kwargs={"slug": self.slug})


class HubContact(models.Model):
    """A person on the hub's page: whom to call about the hub's members and events."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("hub"))
    name = models.CharField(_("name"), max_length=120)
    role = models.CharField(_("role"), max_length=120)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    photo = models.ImageField(_("photo"), upload_to="hubs/contacts/", blank=True)
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=0)

    class Meta:
        verbose_name = _("hub contact")
        verbose_name_plural = _("hub contacts")
        ordering = ["ordering", "name"]

    def __str__(self):
        return f"{self.name} ({self.role})"

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in self.name.split()[:2]).upper()
