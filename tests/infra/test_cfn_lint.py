"""cfn-lint on every synthesized template: no errors, no warnings, no informational findings."""

from __future__ import annotations

from cfnlint.api import ManualArgs, lint

# Regions the templates are linted for. Not every region has SES v2 (AWS::SES::EmailIdentity);
# these are common deployment regions that do.
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]


def test_templates_pass_cfn_lint(synth):
    paths = sorted(synth.outdir.glob("*.template.json"))
    assert len(paths) == 2
    for path in paths:
        matches = lint(path.read_text(), config=ManualArgs(regions=REGIONS, include_checks=["I"]))
        assert [str(match) for match in matches] == [], path.name
