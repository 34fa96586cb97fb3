#!/usr/bin/env python3
"""CDK entry point (cdk.json runs it): `make synth`, `make deploy`, `make destroy`."""

import sys

from aws_cdk import App

from infra.app import build
from infra.config import ConfigError


def main() -> None:
    app = App()
    try:
        build(app)
    except ConfigError as error:
        sys.exit(f"Configuration error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
