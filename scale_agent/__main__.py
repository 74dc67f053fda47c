"""`python -m scale_agent`."""

import sys

from scale_agent.tools.cli import main

sys.exit(main())
