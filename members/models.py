"""Organisations (members and partners), their memberships and the people who act for them."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InvalidTransition(Exception):
    pass


class Segment(models.Model):
    """The fields the cluster covers: biotech, pharma, medtech, assistive technology, welfare technology,
    digital health."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=0)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["ordering", "code"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    """The staff-kept taxonomy of technologies and competences, used for offers and needs."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        UNIVERSITY = "university", _("University")
        GTS = "gts", _("GTS institute")
        HOSPITAL = "hospital", _("Hospital")
        REGION = "region", pgettext_lazy("organisation kind", "Region")
        MUNICIPALITY = "municipality", _("Municipality")
        INDUSTRY_ASSOCIATION = "industry_association", _("Industry association")
        CLUSTER = "cluster", _("Cluster organisation")
        INVESTOR = "investor", _("Investor")
        OTHER = "other", _("Other")

    class SizeBand(models.TextChoices):
        MICRO = "1-9", _("1-9 employees")
        SMALL = "10-49", _("10-49 employees")
        MEDIUM = "50-249", _("50-249 employees")
        LARGE = "250+", _("250+ employees")

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    legal_name = models.CharField(_("legal name"), max_length=200)
    name = models.CharField(_("display name"), max_length=200)
    cvr = models.CharField(_("CVR number"), max_length=8, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.COMPANY)
    segments = models.ManyToManyField(Segment, related_name="organisations", verbose_name=_("segments"), blank=True)
    size_band = models.CharField(_("size"), max_length=10, choices=SizeBand.choices, blank=True)
    website = models.URLField(_("website"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DK")
    region = models.ForeignKey(
        "hubs.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    hub = models.ForeignKey(
        "hubs.Hub",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("hub"),
    )
    description = models.TextField(_("description"), blank=True)
    offers = models.TextField(_("what we offer"), blank=True)
    seeks = models.TextField(_("what we seek"), blank=True)
    offer_tags = models.ManyToManyField(Tag, related_name="offered_by", verbose_name=_("offer tags"), blank=True)
    seek_tags = models.ManyToManyField(Tag, related_name="sought_by", verbose_name=_("seek tags"), blank=True)
    listed_in_directory = models.BooleanField(_("listed in the public directory"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cvr"], condition=models.Q(cvr__isnull=False), name="members_organisation_cvr_unique"
            ),
        ]
        indexes = [models.Index(Lower("name"), name="members_org_name_lower_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("members:organisation", kwargs={"slug": self.slug})


class Membership(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("membership status", "Pending")
        ACTIVE = "active", pgettext_lazy("membership status", "Active")
        EXPIRED = "expired", pgettext_lazy("membership status", "Expired")
        CANCELLED = "cancelled", pgettext_lazy("membership status", "Cancelled")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    fee_dkk = models.PositiveIntegerField(_("fee (DKK)"), default=0)
    invoice_reference = models.CharField(_("invoice reference"), max_length=60, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["-period_end"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")), name="members_membership_period_order"
            ),
            models.UniqueConstraint(fields=["organisation", "period_start"], name="members_membership_one_per_period"),
        ]

    def __str__(self):
        return f"{self.organisation} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"


class OrganisationRole(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", pgettext_lazy("organisation role", "Admin")
        MEMBER = "member", pgettext_lazy("organisation role", "Member")
        BILLING = "billing", pgettext_lazy("organisation role", "Billing contact")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="roles", verbose_name=_("organisation")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_roles", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("organisation role")
        verbose_name_plural = _("organisation roles")
        ordering = ["organisation", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user", "role"], name="members_role_unique"),
        ]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} – {self.organisation}"


class Partner(models.Model):
    """A partner institution of the cluster (reference data); may co-host events."""

    class Kind(models.TextChoices):
        CLUSTER = "cluster", _("Cluster and innovation organisations")
        UNIVERSITY = "university", _("Universities")
        GTS = "gts", _("GTS research and technology institutes")
        REGION = "region", _("Regions")
        ASSOCIATION = "association", _("Industry and business associations")
        MUNICIPALITY = "municipality", _("Municipalities")

    class Role(models.TextChoices):
        FOUNDING = "founding", _("Founding partner")
        PARTNER = "partner", _("Partner")

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PARTNER)
    partner_since = models.PositiveSmallIntegerField(_("partner since"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="partner",
        verbose_name=_("organisation"),
    )
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=0)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["kind", "ordering", "name"]

    def __str__(self):
        return self.short_name or self.name
