"""`python -m collectors` (or `python path/to/collectors`, with no install needed)."""

import contextlib
import os
import sys
from pathlib import Path

if not __package__:  # run as `python path/to/collectors`: import from the checkout it is in
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))

from collectors.cli import main  # noqa: E402

status = main()
if sys.getprofile() is not None or sys.gettrace() is not None:
    sys.exit(status)  # a profiler or tracer (cProfile, coverage) writes its data at exit
# Every report is written: flush what is buffered and leave without tearing the interpreter
# down, which (freeing every artifact, finding and rule one by one) costs a folder scan of
# small files a noticeable share of its time. Nothing here registers exit handlers.
if "logging" in sys.modules:
    sys.modules["logging"].shutdown()
for stream in (sys.stdout, sys.stderr):
    with contextlib.suppress(OSError, ValueError):  # a reader that has gone, a closed stream
        stream.flush()
os._exit(status)
