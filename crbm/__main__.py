"""``python -m crbm``: the same as the ``crbm`` command."""
import sys

from crbm.cli import main

sys.exit(main())
