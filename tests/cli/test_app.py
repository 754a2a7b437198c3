from typer.testing import CliRunner

from tandem.cli.app import app
from tandem.users.models import User

runner = CliRunner()


def test_createuser_with_role(transactional_db):
    result = runner.invoke(app, ["createuser", "ana", "--role", "csm", "--password", "a-long-passphrase"])
    assert result.exit_code == 0, result.output
    assert User.objects.get(username="ana").groups.get().name == "CSM"


def test_createuser_with_unknown_role_names_the_option(transactional_db):
    result = runner.invoke(app, ["createuser", "ana", "--role", "boss", "--password", "a-long-passphrase"])
    assert result.exit_code == 2
    assert "roles" in result.output and "boss" in result.output
    assert not User.objects.exists()


def test_token_for_unknown_user_fails_clearly(transactional_db):
    result = runner.invoke(app, ["token", "nobody"])
    assert result.exit_code == 2
    assert "nobody" in result.output


def test_commands_speak_the_configured_language_whatever_the_thread_had_active(transactional_db):
    from django.utils import translation

    translation.activate("fa")  # as a request served earlier in this thread would leave it
    result = runner.invoke(app, ["createuser", "ana", "--role", "wizard", "--password", "a-long-passphrase"])

    assert result.exit_code == 2
    assert "Unknown role." in result.output


def test_library_install_is_idempotent_and_refuses_an_unknown_language(transactional_db):
    from tandem.playbooks.models import Playbook, Rule

    first = runner.invoke(app, ["library", "install", "--language", "zh-hans", "--without-metrics"])
    assert first.exit_code == 0, first.output
    assert "10 playbooks" in first.output and Rule.objects.count() == 15
    assert Playbook.objects.get(key="usage-drop").name == "使用量下降"
    again = runner.invoke(app, ["library", "install", "--without-metrics"])
    assert again.exit_code == 0 and "0 playbooks" in again.output
    wrong = runner.invoke(app, ["library", "install", "--language", "xx"])
    assert wrong.exit_code == 2 and "language" in wrong.output
