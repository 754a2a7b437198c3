"""Comments, replies and @mentions: who may comment, who may be mentioned, who is notified, what renders."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.access.models import AccessPolicy, BookScope
from tandem.access.scoping import AccessDenied
from tandem.audit.context import audit_context
from tandem.comments.models import Comment, Mention
from tandem.comments.services import comment_delete, comment_edit, comment_post
from tandem.core.errors import DomainError
from tandem.notifications.models import Notification
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


@pytest.fixture
def team():
    with audit_context(via="fixture"):
        people = {
            name: user_create(
                acting_user=None, username=name, password="a-long-passphrase", first_name=name.title(), roles=[role]
            )
            for name, role in (("anna", Role.CSM), ("isabel", Role.ACCOUNT_MANAGER), ("olga", Role.CSM),
                               ("viewer", Role.READ_ONLY), ("maria", Role.CS_MANAGER))
        }  # fmt: skip
        # CSMs see only their own book here, so olga cannot see anna's account.
        AccessPolicy.objects.create(role=Role.CSM, view_accounts=BookScope.OWN, change_accounts=BookScope.OWN)
        account = AccountFactory(name="Acme", csm_owner=people["anna"], am_owner=people["isabel"])
    return people, account


def test_a_mention_notifies_the_colleague_with_a_link_to_the_thread(team):
    people, account = team
    comment = comment_post(acting_user=people["isabel"], target=account, body="@anna can you check **usage**?")

    assert list(Mention.objects.values_list("user__username", flat=True)) == ["anna"]
    note = Notification.objects.get(user=people["anna"])
    assert note.display_title == "Isabel mentioned you"
    assert note.url == f"/accounts/{account.pk}/#comment-{comment.pk}"
    assert '<span class="mention">@anna</span>' in comment.html() and "<strong>usage</strong>" in comment.html()


def test_mentioning_someone_who_cannot_see_the_record_is_refused_and_nothing_is_stored(team):
    people, account = team
    with pytest.raises(DomainError) as refused:
        comment_post(acting_user=people["isabel"], target=account, body="@olga have a look")
    assert refused.value.errors[0].field == "body"
    assert "Olga cannot see this record" in refused.value.errors[0].message
    assert not Comment.objects.exists() and not Notification.objects.exists()


def test_a_reply_joins_the_thread_and_tells_the_first_author(team):
    people, account = team
    first = comment_post(acting_user=people["isabel"], target=account, body="Expansion next quarter?")
    reply = comment_post(acting_user=people["anna"], target=account, body="Yes", parent=first)
    nested = comment_post(acting_user=people["maria"], target=account, body="Agreed", parent=reply)

    assert (reply.parent_id, nested.parent_id) == (first.pk, first.pk)
    assert Notification.objects.filter(user=people["isabel"], key=f"reply:{reply.pk}").exists()


def test_the_read_only_role_may_not_comment(team):
    people, account = team
    with pytest.raises(AccessDenied):
        comment_post(acting_user=people["viewer"], target=account, body="hello")


def test_markdown_is_rendered_without_any_script(team):
    people, account = team
    comment = comment_post(
        acting_user=people["anna"],
        target=account,
        body='<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="alert(1)"> [ok](https://example.com)',
    )
    html = comment.html()
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html  # shown as text
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html


def test_editing_notifies_only_the_newly_mentioned_and_only_the_author_may(team):
    people, account = team
    comment = comment_post(acting_user=people["isabel"], target=account, body="@anna hi")
    comment_edit(acting_user=people["isabel"], comment=comment, body="@anna @maria hi")
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"anna", "maria"}
    with pytest.raises(AccessDenied):
        comment_edit(acting_user=people["anna"], comment=comment, body="mine now")
    with pytest.raises(AccessDenied):
        comment_delete(acting_user=people["anna"], comment=comment)
    comment_delete(acting_user=people["maria"], comment=comment)  # a manager may
    assert not Comment.objects.exists()


def test_the_thread_page_posts_and_the_autocomplete_offers_only_who_may_see(team):
    people, account = team
    client = Client()
    client.force_login(people["isabel"])

    offered = client.get(f"/comments/account/{account.pk}/people/", {"q": ""}).json()["people"]
    assert {p["username"] for p in offered} == {"anna", "maria", "viewer"}  # not olga, not herself

    posted = client.post(f"/comments/account/{account.pk}/", {"body": "@anna see the renewal"}, HTTP_HX_REQUEST="true")
    assert posted.status_code == 200 and b'class="mention">@anna<' in posted.content
    refused = client.post(f"/comments/account/{account.pk}/", {"body": "@olga see"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and "Olga cannot see this record" in refused.content.decode()
    assert "@olga see" in refused.content.decode()  # what was typed is kept

    outsider = Client()
    outsider.force_login(people["olga"])
    assert outsider.get(f"/comments/account/{account.pk}/").status_code == 404
    assert outsider.get(f"/comments/nothing/{account.pk}/").status_code == 404
