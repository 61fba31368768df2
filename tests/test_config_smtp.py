"""The [smtp] table of config.toml: where email goes. The password is never in the file."""

from __future__ import annotations

import logging

import pytest

from desk_app import paths
from desk_app.app import mailer_for
from desk_app.config import Config, ConfigError, SmtpConfig, load_config, save_config
from desk_app.services.clock import SystemClock
from desk_app.services.mail import SmtpSecurity


def write(text: str) -> None:
    paths.config_file().write_text(text, encoding="utf-8")


def test_smtp_settings_round_trip_through_the_file() -> None:
    config = Config(
        workstation="DESK2",
        smtp=SmtpConfig(
            host="smtp.example.com",
            username="desk@clinic.example",
            from_address="desk@clinic.example",
        ),
    )
    save_config(config)
    text = paths.config_file().read_text(encoding="utf-8")
    assert "[smtp]" in text and "password" not in text
    assert load_config() == config
    assert config.smtp is not None and config.smtp.port == 587  # the STARTTLS port


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("ssl", 465), ("none", 25)])
def test_the_port_defaults_to_the_usual_one_for_the_security(security: str, port: int) -> None:
    write(f'[smtp]\nhost = "mail.example.com"\nsecurity = "{security.upper()}"\n')
    loaded = load_config()
    assert loaded is not None and loaded.smtp is not None
    assert (loaded.smtp.security, loaded.smtp.port) == (security, port)


def test_no_smtp_table_means_emails_go_to_the_outbox() -> None:
    write('workstation = "DESK1"\n')
    loaded = load_config()
    assert loaded is not None and loaded.smtp is None
    assert not mailer_for(loaded.smtp, SystemClock()).configured


def test_a_password_in_the_file_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    write('[smtp]\nhost = "mail.example.com"\nusername = "desk"\npassword = "hunter2"\n')
    with caplog.at_level(logging.WARNING, logger="desk_app.config"):
        loaded = load_config()
    assert loaded is not None and loaded.smtp is not None
    assert "hunter2" not in repr(loaded)
    assert any("keyring" in r.getMessage() for r in caplog.records)
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("table", "hint"),
    [
        ('security = "tls"', "security"),
        ("port = 99999", "port"),
        ('port = "587"', "port"),
        ('host = ""', "host"),
        ('from_address = "a@b.c, d@e.f"', "from_address"),
        ("timeout_seconds = 0", "timeout_seconds"),
    ],
)
def test_a_bad_smtp_value_names_the_file_the_table_and_the_key(table: str, hint: str) -> None:
    host = "" if table.startswith("host") else 'host = "mail.example.com"\n'
    write(f"[smtp]\n{host}{table}\n")
    with pytest.raises(ConfigError) as refused:
        load_config()
    message = str(refused.value)
    assert str(paths.config_file()) in message and "smtp" in message and hint in message


def test_an_smtp_table_without_a_host_says_what_to_add() -> None:
    write('[smtp]\nusername = "desk"\n')
    with pytest.raises(ConfigError, match="no host"):
        load_config()


def test_the_app_builds_its_mailer_from_the_table() -> None:
    smtp = SmtpConfig(host="smtp.example.com", security="ssl", username="desk",
                      from_address="desk@clinic.example", timeout_seconds=9)  # fmt: skip
    mailer = mailer_for(smtp, SystemClock())
    assert mailer.settings is not None and mailer.configured
    assert (mailer.settings.security, mailer.settings.port) == (SmtpSecurity.SSL, 465)
    assert mailer.settings.timeout_seconds == 9.0


def test_an_sms_table_is_read_and_its_token_never_kept() -> None:
    from desk_app.config import Config, ConfigError

    config = Config(sms={"account_sid": "AC1", "from_number": "+14165550100",
                         "auth_token": "secret"},
                    payment_links={"success_url": "https://clinic.example/thanks"})
    assert config.sms is not None and config.sms.account_sid == "AC1"
    assert "secret" not in repr(config.to_toml_dict())
    assert config.payment_links == {"success_url": "https://clinic.example/thanks"}
    import pytest

    with pytest.raises(ConfigError, match="from_number"):
        Config(sms={"account_sid": "AC1", "from_number": "4165550100"})
