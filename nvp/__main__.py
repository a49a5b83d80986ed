"""``python -m nvp``."""

import sys

from .training.cli import main

sys.exit(main())
