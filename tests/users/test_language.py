import pytest
from django.conf import settings
from django.urls import reverse

from tandem.core.errors import DomainError
from tandem.users.services import user_set_preferred_language
from tests.factories import as_fixture

pytestmark = pytest.mark.django_db


def test_switching_language_sets_the_cookie_and_remembers_it_on_the_user(client, user):
    client.force_login(user)

    response = client.post(reverse("set_language"), {"language": "ja", "next": "/"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    user.refresh_from_db()
    assert user.preferred_language == "ja"


def test_saved_language_applies_in_a_browser_without_the_cookie(client, user):
    with as_fixture():
        user_set_preferred_language(acting_user=None, user=user, language="fa")
    client.force_login(user)

    response = client.get(reverse("web:home"))

    assert response.status_code == 200
    assert response["Content-Language"] == "fa"
    assert b'dir="rtl"' in response.content


def test_the_cookie_wins_over_the_saved_language(client, user):
    with as_fixture():
        user_set_preferred_language(acting_user=None, user=user, language="fa")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"

    response = client.get(reverse("web:home"))

    assert response["Content-Language"] == "vi"


def test_an_unknown_language_is_refused_and_not_saved(client, user):
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.preferred_language == ""
    with pytest.raises(DomainError) as excinfo, as_fixture():
        user_set_preferred_language(acting_user=None, user=user, language="xx")
    assert excinfo.value.errors[0].field == "language"
