"""`python -m scale_agent`."""

import sys

from scale_agent.cli import main

sys.exit(main())
