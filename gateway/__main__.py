"""`python -m gateway ...` is the same as `wenzheng ...`."""

import sys

from gateway.cli import main

sys.exit(main())
