"""The whole system on this machine, driven by the synthesized stacks: no AWS account, no Docker.

* ``assembly`` finds the CloudFormation templates (``cdk.out``, or a synthesis of the CDK app);
* ``template`` resolves their intrinsic functions;
* ``server`` runs moto on 127.0.0.1;
* ``runtime`` creates the stacks' resources and emulates Lambda's SQS event source mappings;
* ``demo`` is the scenario behind ``make demo``; ``python -m local serve`` keeps a runtime up for
  ``bin/cisctl --local``.

Nothing here is shipped to Lambda: the function asset holds only the ``lambdas`` package.
"""
