"""``python -m chargeplan``: the ``chargeplan`` command."""

import sys

from chargeplan.cli import main

sys.exit(main())
