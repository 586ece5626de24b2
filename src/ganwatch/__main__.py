"""``python -m ganwatch`` runs the CLI."""

import sys

from ganwatch.cli import main

sys.exit(main())
