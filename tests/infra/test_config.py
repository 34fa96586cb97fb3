"""Configuration from context, and the refusal to deploy with the placeholder sender."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App

from infra import names
from infra.app import build
from infra.config import DEFAULTS, PLACEHOLDER_SENDER, AppConfig, ConfigError, is_placeholder_address
from infra.guard import GUARD_RULE_ID
from tests.infra.synth import ROOT


def config(**context):
    return AppConfig.from_node(App(context=context).node)


def test_cdk_json_holds_the_same_defaults_as_the_code():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert {key: context[key] for key in DEFAULTS} == DEFAULTS


def test_defaults_need_nothing_set():
    settings = config()
    assert settings.sender == PLACEHOLDER_SENDER
    assert settings.rsvp_email == PLACEHOLDER_SENDER
    assert settings.ses_identity == PLACEHOLDER_SENDER
    assert settings.max_concurrency == 2
    assert settings.alarm_email is None
    assert settings.hosted_zone_id is None
    assert settings.sender_is_placeholder


@pytest.mark.parametrize(
    ("address", "placeholder"),
    [
        ("invites@example.com", True),
        ("a@mail.example.org", True),
        ("a@example.net", True),
        ("a@host.test", True),
        ("a@corp.invalid", True),
        ("a@acme.example", True),
        ("invites@acme.io", False),
        ("a@example.com.au", False),
        ("a@myexample.com", False),
    ],
)
def test_placeholder_addresses_are_those_on_reserved_domains(address, placeholder):
    assert is_placeholder_address(address) is placeholder


def test_context_values_given_as_strings_on_the_command_line_are_parsed():
    settings = config(
        sender="invites@mail.acme.io",
        sesIdentity="acme.io",
        maxConcurrency="7",
        sandboxRecipients="Alice@Gmail.com, acme.io",
        createSesIdentity="false",
        trustedRelayDomains="Cloud.Acme.io, nextcloud.example.org",
    )
    assert settings.trusted_relay_domains == ("cloud.acme.io", "nextcloud.example.org")
    assert settings.max_concurrency == 7
    assert settings.sandbox_recipients == ("alice@gmail.com", "acme.io")
    assert settings.create_ses_identity is False
    assert settings.sending_identities == (
        "acme.io",
        "invites@mail.acme.io",
        "mail.acme.io",
        "alice@gmail.com",
    )


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"sender": "not-an-address"}, "sender"),
        ({"rsvpEmail": "nobody"}, "rsvpEmail"),
        ({"maxConcurrency": "1"}, "between 2 and 1000"),
        ({"maxConcurrency": "1001"}, "between 2 and 1000"),
        ({"maxConcurrency": "many"}, "integer"),
        ({"sender": "a@acme.io", "sesIdentity": "other.io"}, "not in the SES identity domain"),
        ({"sender": "a@acme.io", "sesIdentity": "b@acme.io"}, "only sends from a verified address"),
        ({"sender": "a@acme.io", "hostedZone": "Z123ABC"}, "only applies to a domain identity"),
        ({"sender": "a@acme.io", "sesIdentity": "acme.io", "hostedZone": "acme.io"}, "hosted zone ID"),
        ({"alarmEmail": "ops"}, "alarmEmail"),
        ({"sandboxRecipients": "bob"}, "sandboxRecipients"),
        ({"trustedRelayDomains": "no-reply@cloud.acme.io"}, "trustedRelayDomains"),
        ({"createSesIdentity": "maybe"}, "true or false"),
        ({"receiveReplies": "perhaps"}, "receiveReplies"),
        ({"inboundRetentionDays": "a month"}, "inboundRetentionDays"),
        ({"inboundRetentionDays": "13"}, "at least 14 days"),
        ({"eventEmail": "events"}, "'eventEmail' must be an email address"),
        ({"eventEmail": "rsvp@acme.io", "rsvpEmail": "RSVP@acme.io"}, "'eventEmail' is the RSVP address"),
        ({"eventEmail": "events@acme.io", "receiveReplies": "false"}, "'eventEmail' needs SES receiving"),
        ({"allowedOrganizers": "acme.io"}, "'eventEmail' is not set"),
        (
            {"eventEmail": "events@acme.io", "allowedOrganizers": "acme.io, not a domain"},
            "'allowedOrganizers' holds",
        ),
    ],
)
def test_invalid_context_is_refused_with_the_key_named(context, message):
    with pytest.raises(ConfigError, match=message):
        config(**context)


def test_an_address_identity_sends_through_that_address_only():
    assert config(sender="Invites@Acme.io").sending_identities == ("invites@acme.io",)


@pytest.mark.parametrize("flag", ["true", True])
def test_deploy_flag_with_the_placeholder_sender_fails_before_any_stack_is_built(flag):
    app = App(context={"deploy": flag})
    with pytest.raises(ConfigError, match="placeholder"):
        build(app)
    assert not app.node.children


def test_deploy_flag_with_a_real_sender_builds(configured_synth):
    assert configured_synth.stacks.config.deploy is True
    assert not configured_synth.stacks.config.sender_is_placeholder


def test_placeholder_templates_carry_a_rule_that_cloudformation_rejects(default_synth):
    for stack_name in (names.STATEFUL_STACK_NAME, names.STATELESS_STACK_NAME):
        rule = default_synth.template(stack_name)["Rules"][GUARD_RULE_ID]
        (assertion,) = rule["Assertions"]
        # Fn::Not(Fn::Contains([domain], domain)) is false whatever the parameters
        (contains,) = assertion["Assert"]["Fn::Not"]
        values, value = contains["Fn::Contains"]
        assert value in values
        assert "placeholder" in assertion["AssertDescription"]


def test_configured_templates_carry_no_guard_rule(configured_synth):
    for template in configured_synth.templates.values():
        assert GUARD_RULE_ID not in template.get("Rules", {})


def test_placeholder_sender_is_reported_as_a_warning_at_synth(default_synth, configured_synth):
    def warned(synth):
        return [
            violation
            for report in synth.report.get("pluginReports", [])
            for violation in report["violations"]
            if "placeholder-sender" in violation["ruleName"]
        ]

    assert warned(default_synth)
    assert not warned(configured_synth)


def test_replies_are_received_by_default_and_kept_30_days():
    settings = config()
    assert settings.receive_replies is True
    assert settings.inbound_retention_days == 30


def test_reply_settings_given_as_strings_are_parsed():
    settings = config(receiveReplies="false", inboundRetentionDays="14")
    assert (settings.receive_replies, settings.inbound_retention_days) == (False, 14)


@pytest.mark.parametrize(
    ("context", "covered"),
    [
        ({"sender": "a@acme.io", "sesIdentity": "acme.io"}, True),  # the RSVP address is the sender
        ({"sender": "a@acme.io", "sesIdentity": "acme.io", "rsvpEmail": "r@replies.acme.io"}, True),
        ({"sender": "a@acme.io", "sesIdentity": "acme.io", "rsvpEmail": "r@other.io"}, False),
        ({"sender": "a@acme.io"}, False),  # an address identity verifies no domain
    ],
)
def test_whether_the_stacks_identity_verifies_the_rsvp_domain(context, covered):
    assert config(**context).identity_covers_rsvp_domain is covered


def test_a_placeholder_rsvp_address_is_refused_for_deployment_only_while_replies_are_received():
    receiving = config(sender="invites@acme.io", rsvpEmail="rsvp@example.com")
    with pytest.raises(ConfigError, match=r"RSVP address 'rsvp@example\.com' is a placeholder"):
        receiving.check_deployable()
    config(sender="invites@acme.io", rsvpEmail="rsvp@example.com", receiveReplies="false").check_deployable()


@pytest.mark.parametrize(("given", "rate"), [("", None), ("14", 14.0), (" 0.5 ", 0.5), (200, 200.0)])
def test_the_ses_sending_rate_is_the_accounts_unless_configured(given, rate):
    assert config(sesMaxSendRate=given).ses_max_send_rate == rate


@pytest.mark.parametrize("given", ["fast", "0", "-3", "nan", "inf", True])
def test_a_ses_sending_rate_that_is_not_a_positive_number_is_refused(given):
    with pytest.raises(ConfigError, match="'sesMaxSendRate' must be a positive number"):
        config(sesMaxSendRate=given)


def test_no_event_address_and_nobody_allowed_by_default():
    settings = config()
    assert (settings.event_email, settings.allowed_organizers) == ("", ())


def test_the_event_address_and_the_allow_list_are_read_lower_cased_from_strings_or_lists():
    settings = config(
        eventEmail="Events@Acme.io", allowedOrganizers="Alice@Example.org, @Partner.io, acme.io"
    )
    assert settings.event_email == "events@acme.io"
    assert settings.allowed_organizers == ("alice@example.org", "@partner.io", "acme.io")
    listed = config(eventEmail="events@acme.io", allowedOrganizers=["acme.io", "acme.io"])
    assert listed.allowed_organizers == ("acme.io",)


def test_the_event_address_sends_through_its_own_identities():
    covered = config(sender="invites@acme.io", sesIdentity="acme.io", eventEmail="events@lists.acme.io")
    assert covered.event_sending_identities == ("acme.io", "events@lists.acme.io", "lists.acme.io")
    elsewhere = config(sender="invites@acme.io", eventEmail="events@other.io")
    assert elsewhere.event_sending_identities == ("events@other.io", "other.io")


def test_a_placeholder_event_address_is_refused_for_deployment():
    settings = config(sender="invites@acme.io", rsvpEmail="rsvp@acme.io", eventEmail="events@example.com")
    with pytest.raises(ConfigError, match=r"event address 'events@example\.com' is a placeholder"):
        settings.check_deployable()
