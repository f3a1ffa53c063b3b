"""`python -m collectors` (or `python path/to/collectors`, with no install needed)."""

import sys
from pathlib import Path

if not __package__:  # run as `python path/to/collectors`: import from the checkout it is in
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))

from collectors.cli import main  # noqa: E402

sys.exit(main())
