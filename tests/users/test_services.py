import pytest
from django.contrib.auth.models import Group

from tandem.core.errors import DomainError
from tandem.users.models import ApiToken, User
from tandem.users.roles import Role, sync_role_groups, user_roles
from tandem.users.services import api_token_authenticate, api_token_create, api_token_revoke, user_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]


def test_role_groups_exist_with_their_permissions_after_migrate():
    names = set(Group.objects.values_list("name", flat=True))
    assert {r.group_name for r in Role} <= names

    read_only = Group.objects.get(name=Role.READ_ONLY.group_name)
    codenames = set(read_only.permissions.values_list("codename", flat=True))
    assert "view_account" in codenames
    assert not any(c.startswith(("add_", "change_", "delete_")) for c in codenames)

    csm = set(Group.objects.get(name=Role.CSM.group_name).permissions.values_list("codename", flat=True))
    assert {"view_account", "change_account", "add_interaction"} <= csm
    assert "delete_account" not in csm


def test_sync_role_groups_is_idempotent():
    sync_role_groups()
    before = {g.name: g.permissions.count() for g in Group.objects.all()}
    sync_role_groups()
    assert {g.name: g.permissions.count() for g in Group.objects.all()} == before


def test_user_create_assigns_roles_and_admin_is_superuser():
    csm = user_create(acting_user=None, username="mia", password="a-long-passphrase", roles=["csm"])
    admin = user_create(acting_user=None, username="root2", password="a-long-passphrase", roles=[Role.ADMIN])

    assert user_roles(csm) == [Role.CSM]
    assert csm.has_perm("accounts.change_account")
    assert not csm.has_perm("accounts.delete_account")
    assert admin.is_superuser and admin.is_staff
    assert user_roles(admin) == [Role.ADMIN]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": "x", "password": "a-long-passphrase", "roles": ["wizard"]}, "roles"),
        ({"username": "x", "password": "short", "roles": []}, "password"),
        ({"username": "bad name!", "password": "a-long-passphrase"}, "username"),
    ],
)
def test_user_create_refuses_bad_input_naming_the_field_and_writes_nothing(kwargs, field):
    with pytest.raises(DomainError) as excinfo:
        user_create(acting_user=None, **kwargs)
    assert [e.field for e in excinfo.value.errors] == [field]
    assert not User.objects.exists()


def test_duplicate_username_is_refused():
    user_create(acting_user=None, username="sam", password="a-long-passphrase")
    with pytest.raises(DomainError) as excinfo:
        user_create(acting_user=None, username="sam", password="a-long-passphrase")
    assert excinfo.value.errors[0].field == "username"


def test_api_token_round_trip_and_revocation(user):
    token, secret = api_token_create(acting_user=None, user=user, name="ci")

    assert secret.startswith("tdm_") and token.prefix == secret[:10]
    assert ApiToken.objects.get().digest != secret  # only the digest is stored
    assert api_token_authenticate(secret=secret) == user
    assert api_token_authenticate(secret=secret + "x") is None

    api_token_revoke(acting_user=None, token=token)
    assert api_token_authenticate(secret=secret) is None


def test_token_of_inactive_user_does_not_authenticate(user):
    _token, secret = api_token_create(acting_user=None, user=user, name="ci")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert api_token_authenticate(secret=secret) is None


@pytest.mark.parametrize("field", ["username", "first_name", "email"])
def test_an_invitation_with_a_null_character_is_refused_on_its_field(field):
    """PostgreSQL refuses NUL in a query parameter: the service names the field before any query (a 500 before)."""
    from tandem.users.services import user_invite

    data = {"username": "kim", "first_name": "Kim", "email": "kim@example.com", field: "k\x00m"}
    with pytest.raises(DomainError) as refused:
        user_invite(acting_user=None, roles=[Role.CSM], **data)
    assert [e.field for e in refused.value.errors] == [field]
    assert not User.objects.filter(first_name="Kim").exists()
