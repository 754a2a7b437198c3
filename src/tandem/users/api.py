"""REST endpoints for colleagues: everyone lists them (to name owners); admins invite, change roles, deactivate."""

from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import paginate

from tandem.access.scoping import Action, ensure_model
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id
from tandem.core.http import AuthenticatedHttpRequest
from tandem.users.models import User
from tandem.users.roles import GROUP_NAMES, Role, user_roles
from tandem.users.selectors import password_set_path
from tandem.users.services import user_invite, user_update

router = Router(tags=["Users"])
_ROLE_OF_GROUP = {name: role for role, name in GROUP_NAMES.items()}


class UserOut(Schema):
    id: int
    username: str
    name: str = Field(..., description="Full name, or the username when none is set.")
    roles: list[Role] = Field(..., description="Tandem roles; `admin` for administrators.")
    is_active: bool

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.get_full_name() or obj.username

    @staticmethod
    def resolve_roles(obj: User) -> list[Role]:
        roles = [_ROLE_OF_GROUP[g.name] for g in obj.groups.all() if g.name in _ROLE_OF_GROUP]
        if obj.is_superuser and Role.ADMIN not in roles:
            roles.insert(0, Role.ADMIN)
        return roles


class UserFilter(FilterSchema):
    q: str | None = Field(None, description="Search in username, name and email.")
    role: Role | None = None
    is_active: bool | None = Field(True, description="Active users only unless `false` (or empty for all).")

    def filter_q(self, value: str | None) -> Q:
        if not value:
            return Q()
        return (
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
        )

    def filter_role(self, value: Role | None) -> Q:
        if value is None:
            return Q()
        if value == Role.ADMIN:
            return Q(is_superuser=True) | Q(groups__name=GROUP_NAMES[value])
        return Q(groups__name=GROUP_NAMES[value])


@router.get(
    "/",
    response={200: list[UserOut], **PROBLEM_RESPONSES},
    summary="List users",
    description="Read-only: everyone signed in may list colleagues (to name an owner by id or username). "
    "No email addresses or permissions are returned.",
)
@paginate(Pagination)
def list_users(request: AuthenticatedHttpRequest, filters: Query[UserFilter]) -> QuerySet[User]:
    users = User.objects.prefetch_related(Prefetch("groups", queryset=Group.objects.only("id", "name")))
    return filters.filter(users).distinct().order_by("username", "id")


class InviteIn(Schema):
    username: str = Field(..., max_length=150)
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    roles: list[Role]
    password: str | None = Field(None, description="An initial password; without one, a set-password link is returned.")


class UserAdminOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    roles: list[str]
    set_password_url: str | None = Field(None, description="Only when invited without a password.")


class UserUpdateIn(Schema):
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    roles: list[Role] | None = None
    is_active: bool | None = None


def _out(user: User, link: str | None = None) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "roles": [r.value for r in user_roles(user)],
        "set_password_url": link,
    }


@router.post("/invite", response={201: UserAdminOut, **PROBLEM_RESPONSES}, summary="Invite a colleague")
def invite_user(request: AuthenticatedHttpRequest, payload: InviteIn) -> Status:
    ensure_model(request.user, Action.CHANGE, User)  # administration: admins only
    user = user_invite(acting_user=request.user, **payload.dict())
    link = None if payload.password else request.build_absolute_uri(password_set_path(user))
    return Status(201, _out(user, link))


@router.patch(
    "/{user_id}", response={200: UserAdminOut, **PROBLEM_RESPONSES}, summary="Change roles, name, email or activity"
)
def update_user(request: AuthenticatedHttpRequest, user_id: Id, payload: UserUpdateIn) -> dict:
    ensure_model(request.user, Action.CHANGE, User)
    user = get_object_or_404(User, pk=user_id)
    return _out(user_update(acting_user=request.user, user=user, **payload.dict(exclude_unset=True)))
