"""Comment threads on the records a team discusses (accounts, CTAs, opportunities, notes), and @mentions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.markdown import render_markdown


class Comment(models.Model):
    """One comment; a reply has a ``parent`` (threads are one level deep, as in Slack and Linear)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    # Every commented record belongs to an account: the access rules read it, the timeline shows it.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField(_("comment"), max_length=10_000, help_text=_("Markdown; @username mentions a colleague."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [
            models.Index(fields=["content_type", "object_id", "created_at"], name="comment_thread"),
            models.Index(fields=["account", "-created_at"], name="comment_account_recent"),
        ]

    def __str__(self) -> str:
        return self.body[:80]

    def html(self) -> str:
        return render_markdown(self.body, mentions=[m.user.get_username() for m in self.mentions.all()])


class Mention(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="mention_once_per_comment")]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.comment_id}"
