"""Organisations (members and partners), their memberships and the people who act for them."""

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing.models import VatCategory
from billing.validators import validate_cvr, validate_ean
from common.errors import InvalidTransition  # re-exported: callers catch it from here

LOGO_MAX_BYTES = 1024 * 1024


def validate_logo_size(file) -> None:
    if file.size > LOGO_MAX_BYTES:
        raise ValidationError(_("The logo may be at most 1 MB."), code="logo_too_large")


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
    cvr = models.CharField(_("CVR number"), max_length=8, null=True, blank=True, validators=[validate_cvr])
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.COMPANY)
    segments = models.ManyToManyField(Segment, related_name="organisations", verbose_name=_("segments"), blank=True)
    size_band = models.CharField(_("size"), max_length=10, choices=SizeBand.choices, blank=True)
    website = models.URLField(_("website"), blank=True)
    logo = models.ImageField(
        _("logo"),
        upload_to="logos/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "gif", "webp"]), validate_logo_size],
        help_text=_("PNG, JPEG, GIF or WebP, at most 1 MB."),
    )
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
    # Billing details: what an invoice to the organisation carries (copied onto each invoice when it is issued).
    billing_contact_name = models.CharField(_("billing contact"), max_length=120, blank=True)
    billing_email = models.EmailField(_("billing email"), blank=True)
    ean = models.CharField(
        _("EAN number"),
        max_length=13,
        blank=True,
        validators=[validate_ean],
        help_text=_("13 digits. Public bodies receive their invoices through NemHandel at this number."),
    )
    po_number = models.CharField(_("PO / requisition number"), max_length=60, blank=True)
    buyer_reference = models.CharField(
        _("your reference person"),
        max_length=60,
        blank=True,
        help_text=_("The person or reference your invoices should name (public bodies: the person reference)."),
    )
    vat_number = models.CharField(
        _("VAT number"), max_length=20, blank=True, help_text=_("Only for organisations outside Denmark.")
    )
    # Kept by organisation_search_refresh() on PostgreSQL (Danish configuration, GIN-indexed); unused on SQLite.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cvr"],
                condition=models.Q(cvr__isnull=False),
                name="members_organisation_cvr_unique",
                violation_error_message=_("An organisation with this CVR number already exists."),
            ),
        ]
        indexes = [
            models.Index(Lower("name"), name="members_org_name_lower_idx"),
            # The directory lists members by name a page at a time: walking this index stops after one page.
            models.Index(fields=["name"], name="members_org_name_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("members:organisation", kwargs={"slug": self.slug})


class Benefit(models.TextChoices):
    """What a membership type gives; the code asks for these through members.selectors.organisation_benefits()."""

    MEMBERS_ONLY_EVENTS = "members_only_events", _("Members-only events")
    MEMBER_SEATS = "member_seats", _("Seats held for members")
    DIRECTORY = "directory", _("Listing in the member directory")
    MATCHMAKING = "matchmaking", _("Matchmaking")
    NEWSLETTER_TOPICS = "newsletter_topics", _("Members' newsletter topics")


class MembershipType(models.Model):
    """A kind of membership staff define: who may hold it, what it costs, its VAT, what it gives and how it renews."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    organisation_kinds = models.JSONField(
        _("organisation kinds that may hold it"), default=list, blank=True, help_text=_("None chosen: any kind.")
    )
    vat_category = models.CharField(_("VAT"), max_length=1, choices=VatCategory.choices, default=VatCategory.STANDARD)
    members_only_events = models.BooleanField(_("members-only events"), default=True)
    member_seats = models.BooleanField(_("seats held for members"), default=True)
    directory_listing = models.BooleanField(_("listed in the member directory"), default=True)
    matchmaking = models.BooleanField(_("matchmaking"), default=True)
    newsletter_topics = models.JSONField(
        _("newsletter topics included"),
        default=list,
        blank=True,
        help_text=_("Slugs of the newsletter topics reserved for members that this type includes."),
    )
    renews_automatically = models.BooleanField(_("renews automatically"), default=True)
    invoice_days_before = models.PositiveSmallIntegerField(
        _("invoice issued (days before the period ends)"), default=30
    )
    cancellation_notice_days = models.PositiveSmallIntegerField(
        _("cancellation notice (days before the period ends)"), default=60
    )
    is_active = models.BooleanField(_("offered on the application form"), default=True)
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=0)

    class Meta:
        verbose_name = _("membership type")
        verbose_name_plural = _("membership types")
        ordering = ["ordering", "slug"]

    def __str__(self):
        return self.name

    def clean(self):
        unknown = set(self.organisation_kinds or []) - set(Organisation.Kind.values)
        if unknown:
            raise ValidationError({"organisation_kinds": _("Unknown organisation kind.")})
        if self.cancellation_notice_days < self.invoice_days_before:
            raise ValidationError(
                {
                    "cancellation_notice_days": _(
                        "The notice must end no later than the next invoice is issued: at least as many days."
                    )
                }
            )

    @property
    def benefits(self) -> frozenset[str]:
        flags = {
            Benefit.MEMBERS_ONLY_EVENTS: self.members_only_events,
            Benefit.MEMBER_SEATS: self.member_seats,
            Benefit.DIRECTORY: self.directory_listing,
            Benefit.MATCHMAKING: self.matchmaking,
            Benefit.NEWSLETTER_TOPICS: bool(self.newsletter_topics),
        }
        return frozenset(str(benefit) for benefit, on in flags.items() if on)

    def allows_kind(self, kind: str) -> bool:
        return not self.organisation_kinds or kind in self.organisation_kinds


class MembershipTypeFee(models.Model):
    """The yearly fee of a type for one year and size band; a blank band is the type's flat fee for every band."""

    membership_type = models.ForeignKey(
        MembershipType, on_delete=models.CASCADE, related_name="fees", verbose_name=_("membership type")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    size_band = models.CharField(
        _("size"), max_length=10, choices=Organisation.SizeBand.choices, blank=True, help_text=_("Blank: all sizes.")
    )
    amount = models.DecimalField(
        _("yearly fee (DKK, without VAT)"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("membership fee")
        verbose_name_plural = _("membership fees")
        ordering = ["membership_type", "-year", "amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership_type", "year", "size_band"], name="members_type_fee_one_per_year_band"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="members_type_fee_not_negative"),
        ]

    def __str__(self):
        band = self.get_size_band_display() if self.size_band else _("all sizes")
        return f"{self.membership_type} {self.year}, {band}: {self.amount} DKK"


class Membership(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("membership status", "Pending")
        ACTIVE = "active", pgettext_lazy("membership status", "Active")
        EXPIRED = "expired", pgettext_lazy("membership status", "Expired")
        CANCELLED = "cancelled", pgettext_lazy("membership status", "Cancelled")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    membership_type = models.ForeignKey(
        MembershipType, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("membership type")
    )
    size_band = models.CharField(_("size"), max_length=10, choices=Organisation.SizeBand.choices, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    fee_dkk = models.DecimalField(
        _("fee (DKK, without VAT)"), max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invoice"),
    )
    note = models.TextField(_("note"), blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    # What the company admin chose for the period after this one; blank means "as now".
    next_type = models.ForeignKey(
        MembershipType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("type from the next period"),
    )
    next_size_band = models.CharField(
        _("size from the next period"), max_length=10, choices=Organisation.SizeBand.choices, blank=True
    )
    # Cancelled at the end of the period: it runs out and is not renewed.
    cancelled_at = models.DateTimeField(_("cancelled to the end of the period"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
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

    def activate(self) -> None:
        if self.status != self.Status.PENDING:
            raise InvalidTransition(f"cannot activate a {self.status} membership")
        self.status = self.Status.ACTIVE

    def mark_paid(self, *, on) -> None:
        if self.status in (self.Status.EXPIRED, self.Status.CANCELLED):
            raise InvalidTransition(f"cannot mark a {self.status} membership paid")
        if self.paid_on is not None:
            raise InvalidTransition("the membership is already paid")
        self.paid_on = on
        if self.status == self.Status.PENDING:
            self.status = self.Status.ACTIVE

    def expire(self) -> None:
        if self.status not in (self.Status.ACTIVE, self.Status.PENDING):
            raise InvalidTransition(f"cannot expire a {self.status} membership")
        self.status = self.Status.EXPIRED

    def cancel(self) -> None:
        if self.status not in (self.Status.ACTIVE, self.Status.PENDING):
            raise InvalidTransition(f"cannot cancel a {self.status} membership")
        self.status = self.Status.CANCELLED

    def cancel_at_period_end(self, *, by, now) -> None:
        if self.status not in (self.Status.ACTIVE, self.Status.PENDING) or self.cancelled_at is not None:
            raise InvalidTransition(f"cannot cancel a {self.status} membership at the end of its period")
        self.cancelled_at = now
        self.cancelled_by = by

    def cancellation_deadline(self):
        """The last day a cancellation to the end of this period is accepted."""
        return self.period_end - timedelta(days=self.membership_type.cancellation_notice_days)


class MembershipApplication(models.Model):
    """A company's request to become a member; staff approve or reject it."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("application status", "Pending")
        APPROVED = "approved", pgettext_lazy("application status", "Approved")
        REJECTED = "rejected", pgettext_lazy("application status", "Rejected")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    legal_name = models.CharField(_("legal name"), max_length=200)
    name = models.CharField(_("display name"), max_length=200)
    cvr = models.CharField(_("CVR number"), max_length=8, blank=True, validators=[validate_cvr])
    kind = models.CharField(
        _("kind"), max_length=30, choices=Organisation.Kind.choices, default=Organisation.Kind.COMPANY
    )
    country = models.CharField(_("country"), max_length=2, default="DK")
    size_band = models.CharField(_("size"), max_length=10, choices=Organisation.SizeBand.choices)
    membership_type = models.ForeignKey(
        MembershipType,
        on_delete=models.PROTECT,
        null=True,
        related_name="applications",
        verbose_name=_("membership type"),
    )
    segments = models.ManyToManyField(Segment, related_name="+", verbose_name=_("segments"), blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    region = models.ForeignKey(
        "hubs.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="da")
    terms_accepted_at = models.DateTimeField(_("terms accepted"))
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="membership_applications",
        verbose_name=_("applicant"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("organisation"),
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("membership application")
        verbose_name_plural = _("membership applications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cvr"],
                condition=models.Q(status="pending") & ~models.Q(cvr=""),
                name="members_application_one_pending_per_cvr",
            ),
        ]

    def __str__(self):
        return self.name

    def approve(self, *, by) -> None:
        if self.status != self.Status.PENDING:
            raise InvalidTransition(f"cannot approve a {self.status} application")
        self.status = self.Status.APPROVED
        self.decided_by = by
        self.decided_at = timezone.now()

    def reject(self, *, by, reason: str) -> None:
        if self.status != self.Status.PENDING:
            raise InvalidTransition(f"cannot reject a {self.status} application")
        if not reason.strip():
            raise ValueError("a rejection needs a reason")
        self.status = self.Status.REJECTED
        self.decided_by = by
        self.decided_at = timezone.now()
        self.rejection_reason = reason.strip()


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


class Invitation(models.Model):
    """An organisation admin's invitation of a colleague. The emailed token is signed and expires; this row
    makes it revocable and usable once."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("invitation status", "Pending")
        ACCEPTED = "accepted", pgettext_lazy("invitation status", "Accepted")
        REVOKED = "revoked", pgettext_lazy("invitation status", "Revoked")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("organisation")
    )
    email = models.EmailField(_("email"))
    role = models.CharField(
        _("role"), max_length=10, choices=OrganisationRole.Role.choices, default=OrganisationRole.Role.MEMBER
    )
    nonce = models.CharField(max_length=32, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by")
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    decided_at = models.DateTimeField(_("accepted or revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Lower("email"),
                condition=models.Q(status="pending"),
                name="members_invitation_one_pending_per_email",
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.organisation}"

    def accept(self, *, by) -> None:
        if self.status != self.Status.PENDING:
            raise InvalidTransition(f"cannot accept a {self.status} invitation")
        self.status = self.Status.ACCEPTED
        self.accepted_by = by
        self.decided_at = timezone.now()

    def revoke(self) -> None:
        if self.status != self.Status.PENDING:
            raise InvalidTransition(f"cannot revoke a {self.status} invitation")
        self.status = self.Status.REVOKED
        self.decided_at = timezone.now()


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
    logo = models.ImageField(
        _("logo"),
        upload_to="partners/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "gif", "webp"]), validate_logo_size],
        help_text=_("PNG, JPEG, GIF or WebP, at most 1 MB."),
    )
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
