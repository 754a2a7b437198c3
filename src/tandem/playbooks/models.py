"""Rules that watch accounts, playbooks of steps, and the calls to action (CTAs) they open.

A rule firing on an account opens a CTA that runs the rule's playbook: each step becomes a task
for a role, an email to the customer, an internal notification, a wait, or a branch. Open CTAs are
the only rows the queues and the one-open-CTA-per-rule-and-account constraint look at (partial
indexes), so millions of closed ones never slow them down.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tandem.core.models import TimeStampedModel
from tandem.notifications.messages import render_stored


class CtaType(models.TextChoices):
    RISK = "risk", _("Risk")
    EXPANSION = "expansion", _("Expansion")
    RENEWAL = "renewal", _("Renewal")
    ONBOARDING = "onboarding", pgettext_lazy("CTA type", "Onboarding")
    LIFECYCLE = "lifecycle", _("Lifecycle")


class CtaPriority(models.IntegerChoices):
    LOW = 1, _("Low")
    MEDIUM = 2, _("Medium")
    HIGH = 3, _("High")
    CRITICAL = 4, _("Critical")


class StepRole(models.TextChoices):
    CSM = "csm", _("CSM")
    AM = "am", _("Account manager")
    CS_MANAGER = "cs_manager", _("CS manager")
    ACCOUNT_OWNER = "account_owner", _("CTA owner")


class StepKind(models.TextChoices):
    TASK = "task", _("Task")
    EMAIL = "email", _("Email to the customer")
    NOTIFY = "notify", _("Internal notification")
    WAIT = "wait", _("Wait")
    BRANCH = "branch", _("Branch on a condition")


class EmailTemplate(TimeStampedModel):
    """A customer-facing email with ``{{ placeholder }}`` fields (see PLACEHOLDERS in emails.py)."""

    key = models.SlugField(_("key"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def text_for(self, language: str | None) -> tuple[str, str]:
        """Subject and body in ``language`` when a version exists, else the template's own."""
        if language:
            for version in self.versions.all():
                if version.language == language:
                    return version.subject, version.body
        return self.subject, self.body


class EmailTemplateVersion(TimeStampedModel):
    """The template in another language: used when an email is sent in that language."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))

    class Meta:
        verbose_name = _("email template version")
        verbose_name_plural = _("email template versions")
        ordering = ["template", "language"]
        constraints = [
            models.UniqueConstraint(fields=["template", "language"], name="email_template_version_language_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template_id} [{self.language}]"


class Playbook(TimeStampedModel):
    """A reusable, ordered list of steps that a CTA runs."""

    key = models.SlugField(_("key"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    cta_type = models.CharField(_("CTA type"), max_length=20, choices=CtaType.choices, default=CtaType.RISK)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlaybookStep(models.Model):
    """One step of a playbook, for a role, due ``due_offset_days`` after the step is reached."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=StepKind.choices, default=StepKind.TASK)
    title = models.CharField(_("title"), max_length=200)
    role = models.CharField(_("role"), max_length=20, choices=StepRole.choices, default=StepRole.ACCOUNT_OWNER)
    due_offset_days = models.PositiveSmallIntegerField(_("due after (days)"), default=0)
    email_template = models.ForeignKey(
        EmailTemplate, verbose_name=_("email template"), null=True, blank=True, on_delete=models.PROTECT
    )
    auto_send = models.BooleanField(
        _("send automatically"), default=False, help_text=_("Email steps: send when reached instead of on approval.")
    )
    body = models.TextField(_("text"), blank=True, help_text=_("Task instructions or notification text."))
    # Branch steps: {"field": "tier", "op": "eq", "value": "enterprise"}; when false, skip the next
    # ``skip_if_false`` steps.
    condition = models.JSONField(_("condition"), default=dict, blank=True)
    skip_if_false = models.PositiveSmallIntegerField(_("steps to skip when false"), default=0)

    class Meta:
        verbose_name = _("playbook step")
        verbose_name_plural = _("playbook steps")
        ordering = ["playbook", "position"]
        constraints = [models.UniqueConstraint(fields=["playbook", "position"], name="playbook_step_position_unique")]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class PoolStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class WorkPool(TimeStampedModel):
    """A pooled queue for a low-touch team: CTAs go to its members in turn or to the least loaded."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    strategy = models.CharField(
        _("assignment"), max_length=20, choices=PoolStrategy.choices, default=PoolStrategy.LEAST_LOADED
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="work_pools")
    cursor = models.PositiveIntegerField(default=0, editable=False)  # round robin position

    class Meta:
        verbose_name = _("work pool")
        verbose_name_plural = _("work pools")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rule(TimeStampedModel):
    """When ``trigger`` (with ``params``) fires for an account that meets ``conditions``, open a CTA."""

    key = models.SlugField(_("key"), max_length=80, null=True, blank=True, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=40)
    params = models.JSONField(_("trigger parameters"), default=dict, blank=True)
    # [{"field": "tier", "op": "in", "value": ["enterprise"]}, {"metric": "...", "op": "lt", "value": 3}]
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    playbook = models.ForeignKey(Playbook, verbose_name=_("playbook"), on_delete=models.PROTECT, related_name="rules")
    cta_type = models.CharField(_("CTA type"), max_length=20, choices=CtaType.choices, default=CtaType.RISK)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=CtaPriority.choices, default=CtaPriority.MEDIUM)
    owner_role = models.CharField(_("owner"), max_length=20, choices=StepRole.choices, default=StepRole.CSM)
    pool = models.ForeignKey(
        WorkPool,
        verbose_name=_("pool"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("Assign to this pool's members instead of the account's owner."),
    )
    due_in_days = models.PositiveSmallIntegerField(_("due in (days)"), default=7)
    reopen_after_days = models.PositiveSmallIntegerField(
        _("quiet period (days)"),
        default=30,
        help_text=_("After a CTA of this rule closes, the rule does not fire again on the account for this long."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CtaStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SNOOZED = "snoozed", _("Snoozed")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (CtaStatus.OPEN, CtaStatus.SNOOZED)
# "Open or snoozed", written as NOT (status = 'closed'): the queue indexes and the one-open-CTA
# constraint are partial on exactly this predicate, and queries must repeat it as written. SQLite
# matches a partial index's WHERE only term by term, and it can compare a bound parameter with the
# index's literal in ``status = ?`` but not inside ``status IN (?, ?)``; with the IN form every
# queue query walked the owner's closed CTAs too (see benchmarks/bench_cta_archive.py).
OPEN_Q = ~Q(status="closed")


class CtaOutcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    PARTIAL = "partial", _("Partly successful")
    NOT_NEEDED = "not_needed", _("No action needed")
    LOST = "lost", _("Lost")


class CallToAction(TimeStampedModel):
    """Something a person must act on for an account, opened by a rule (or by hand) and run by a playbook."""

    rule = models.ForeignKey(Rule, verbose_name=_("rule"), null=True, blank=True, on_delete=models.SET_NULL)
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="ctas"
    )
    playbook = models.ForeignKey(Playbook, verbose_name=_("playbook"), null=True, blank=True, on_delete=models.SET_NULL)
    type = models.CharField(_("type"), max_length=20, choices=CtaType.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=CtaPriority.choices, default=CtaPriority.MEDIUM)
    title = models.CharField(_("title"), max_length=300)
    # Rendered in the default language when opened; ``reason_message`` keeps the trigger's msgid
    # and parameters so each reader sees it in their own language (tandem.notifications.messages).
    reason = models.TextField(_("why"), blank=True)
    reason_message = models.JSONField(default=dict, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ctas",
    )
    pool = models.ForeignKey(WorkPool, verbose_name=_("pool"), null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(_("status"), max_length=10, choices=CtaStatus.choices, default=CtaStatus.OPEN)
    opened_on = models.DateField(_("opened"))
    due_date = models.DateField(_("due"))
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CtaOutcome.choices, blank=True)
    close_reason = models.TextField(_("closing note"), blank=True)
    # ARR at stake * risk, fixed when opened; the queue multiplies it by urgency (see selectors).
    priority_score = models.FloatField(_("priority score"), default=0)

    class Meta:
        verbose_name = _("call to action")
        verbose_name_plural = _("calls to action")
        ordering = ["due_date", "-priority_score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "account"],
                condition=OPEN_Q,
                name="cta_one_open_per_rule_account",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="cta_closed_at_iff_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "due_date"], condition=OPEN_Q, name="cta_open_owner_idx"),
            models.Index(fields=["pool", "due_date"], condition=OPEN_Q, name="cta_open_pool_idx"),
            models.Index(fields=["account"], condition=OPEN_Q, name="cta_open_account_idx"),
            # The quiet period reads only the recently closed CTAs of one rule: a range scan on
            # (rule, closed_at) that stays short however many CTAs closed long ago.
            models.Index(fields=["rule", "closed_at"], condition=Q(status="closed"), name="cta_closed_rule_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def reason_display(self) -> str:
        """Why the CTA opened, in the active language."""
        return render_stored(self.reason_message, self.reason)


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("To do")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class CtaTask(models.Model):
    """A playbook step reached by a CTA: a task, email, notification or wait, with an assignee and due date."""

    # No index of its own: the unique (cta, position) constraint's index leads with cta.
    cta = models.ForeignKey(CallToAction, on_delete=models.CASCADE, related_name="tasks", db_index=False)
    step = models.ForeignKey(PlaybookStep, null=True, blank=True, on_delete=models.SET_NULL)
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=StepKind.choices, default=StepKind.TASK)
    title = models.CharField(_("title"), max_length=300)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cta_tasks",
    )
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("CTA task")
        verbose_name_plural = _("CTA tasks")
        ordering = ["cta", "position"]
        constraints = [models.UniqueConstraint(fields=["cta", "position"], name="cta_task_position_unique")]
        indexes = [
            models.Index(fields=["due_date"], condition=Q(status="pending", kind="wait"), name="cta_task_wait_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown (worker stopped while sending)")


class OutboundEmail(TimeStampedModel):
    """A customer-facing email rendered from a template; sent over SMTP and logged on the timeline."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="outbound_emails")
    contact = models.ForeignKey("accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL)
    task = models.OneToOneField(CtaTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="email")
    template = models.ForeignKey(EmailTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    to_email = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    message_id = models.CharField(_("Message-ID"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    interaction = models.ForeignKey(
        "timeline.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class ChurnRiskSample(models.Model):
    """An account's churn probability as scored on one day: the history the churn-risk-rise trigger reads.

    The risk domain keeps only the current score; rule evaluation copies each new scoring day here
    (``churn_risk_history_record``) and drops samples older than ``CHURN_HISTORY_DAYS``.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(_("scored on"))
    probability = models.FloatField(_("churn risk"))

    class Meta:
        verbose_name = _("churn risk sample")
        verbose_name_plural = _("churn risk samples")
        constraints = [
            # as_of first: the trigger reads one window of days for every account.
            models.UniqueConstraint(fields=["as_of", "account"], name="churn_risk_sample_day_account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.as_of}: {self.probability:.1%}"
