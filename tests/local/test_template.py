"""Intrinsic functions and creation order, without any AWS emulation."""

from __future__ import annotations

import pytest

from local.assembly import Assembly, StackTemplate
from local.template import Deployment, Physical, TemplateError, creation_order


def _deployment(*templates: tuple[str, dict]) -> Deployment:
    stacks = tuple(StackTemplate(name, name, template) for name, template in templates)
    return Deployment(Assembly(stacks, "test"), region="eu-west-3", account="111122223333")


@pytest.fixture
def stack():
    template = {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "dev"},
            "Bootstrap": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk/version"},
        },
        "Conditions": {
            "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
            "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
        },
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}, "Other": {"Type": "AWS::SQS::Queue"}},
    }
    deployment = _deployment(("Main", template))
    state = deployment.stack("Main")
    state.physical["Queue"] = Physical(ref="https://q/url", attributes={"Arn": "arn:q", "QueueName": "q"})
    return state


def test_pseudo_parameters_and_parameters(stack):
    assert stack.resolve({"Ref": "AWS::Region"}) == "eu-west-3"
    assert stack.resolve({"Ref": "AWS::AccountId"}) == "111122223333"
    assert stack.resolve({"Ref": "AWS::StackName"}) == "Main"
    assert stack.resolve({"Ref": "Stage"}) == "dev"
    with pytest.raises(TemplateError, match="SSM"):
        stack.resolve({"Ref": "Bootstrap"})


def test_ref_and_get_att_in_both_forms(stack):
    assert stack.resolve({"Ref": "Queue"}) == "https://q/url"
    assert stack.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:q"
    assert stack.resolve({"Fn::GetAtt": "Queue.QueueName"}) == "q"
    with pytest.raises(TemplateError, match="before it was created"):
        stack.resolve({"Ref": "Other"})
    with pytest.raises(TemplateError, match=r"Fn::GetAtt Queue\.Nope"):
        stack.resolve({"Fn::GetAtt": ["Queue", "Nope"]})


def test_join_and_sub(stack):
    assert stack.resolve(
        {"Fn::Join": ["/", ["a", {"Ref": "AWS::Region"}, {"Fn::GetAtt": ["Queue", "Arn"]}]]}
    ) == ("a/eu-west-3/arn:q")
    assert stack.resolve({"Fn::Sub": "${AWS::Region}-${Queue.QueueName}-${Queue}-${!Literal}"}) == (
        "eu-west-3-q-https://q/url-${Literal}"
    )
    assert (
        stack.resolve({"Fn::Sub": ["${A}:${Stage}", {"A": {"Ref": "AWS::AccountId"}}]}) == "111122223333:dev"
    )


def test_conditions_and_no_value(stack):
    assert stack.condition("IsDev") is True
    assert stack.condition("IsProd") is False
    value = {"A": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}, "B": [{"Fn::If": ["IsDev", 2, 3]}]}
    assert stack.resolve(value) == {"B": [2]}


def test_an_unsupported_function_is_an_error_not_a_silent_value(stack):
    for unused in ("Fn::Transform", "Fn::Select", "Fn::Base64"):
        with pytest.raises(TemplateError, match=unused):
            stack.resolve({unused: ["x"]})


def test_import_value_and_get_stack_output_read_the_other_stack():
    producer = {
        "Resources": {"Table": {"Type": "AWS::DynamoDB::Table"}},
        "Outputs": {
            "Exported": {
                "Value": {"Ref": "Table"},
                "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:Table"}},
            },
            "Weak": {"Value": {"Fn::Join": ["-", [{"Ref": "Table"}, "weak"]]}},
        },
    }
    deployment = _deployment(("Data", producer), ("Workers", {"Resources": {}}))
    deployment.stack("Data").physical["Table"] = Physical(ref="the-table")
    workers = deployment.stack("Workers")
    assert workers.resolve({"Fn::ImportValue": "Data:Table"}) == "the-table"
    assert (
        workers.resolve({"Fn::GetStackOutput": {"StackName": "Data", "OutputName": "Weak"}})
        == "the-table-weak"
    )
    with pytest.raises(TemplateError, match="exports 'Data:Nothing'"):
        workers.resolve({"Fn::ImportValue": "Data:Nothing"})


def test_creation_order_follows_references_and_depends_on():
    template = {
        "Resources": {
            "Mapping": {
                "Type": "M",
                "Properties": {"Function": {"Ref": "Function"}, "Queue": {"Fn::GetAtt": "Queue.Arn"}},
            },
            "Function": {"Type": "F", "Properties": {"Env": {"Fn::Sub": "${Queue}"}}, "DependsOn": "Role"},
            "Queue": {"Type": "Q", "Properties": {"Redrive": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
            "Role": {"Type": "R"},
            "Dlq": {"Type": "Q"},
        }
    }
    state = _deployment(("S", template)).stack("S")
    order = creation_order(state)
    assert order.index("Dlq") < order.index("Queue") < order.index("Function") < order.index("Mapping")
    assert order.index("Role") < order.index("Function")


def test_creation_order_reports_a_cycle():
    template = {
        "Resources": {
            "A": {"Type": "X", "Properties": {"B": {"Ref": "B"}}},
            "B": {"Type": "X", "Properties": {"A": {"Ref": "A"}}},
        }
    }
    with pytest.raises(TemplateError, match="circular"):
        creation_order(_deployment(("S", template)).stack("S"))
