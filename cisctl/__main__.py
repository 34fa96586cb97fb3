import sys

from cisctl.cli import main

sys.exit(main())
