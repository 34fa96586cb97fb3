"""CloudFormation resource types the local runtime creates: one unit each, looked up by type.

See local/resources/base.py for what a unit is and how one is registered; importing this package
registers every unit below.
"""

from local.resources import dynamodb, iam, lambda_function, s3, ses, sns, sqs  # noqa: F401 - registers units
from local.resources.base import Creation, Inventory, Site, after_deploy_steps, create, label, registered

__all__ = ["Creation", "Inventory", "Site", "after_deploy_steps", "create", "label", "registered"]
