"""`python -m floe_infra` runs the CLI."""

import sys

from floe_infra.cli import main

sys.exit(main())
