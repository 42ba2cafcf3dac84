#!/usr/bin/env python3
"""CustomerRecords benchmark driver (Python 3 standard library only).

Builds the service and the reference program (Release), starts a private MariaDB and Redis on free
loopback ports, bulk-loads N customers, starts each program under test, drives it with wrk and
bench/lua/bench.lua, samples the server's CPU and memory from /proc, and writes a report to
bench/results/. Everything it starts is stopped on exit, including on Ctrl-C.

Run it through bench/run.sh, which installs the Debian packages it needs first.
"""

import sys

from harness.cli import main
from harness.common import log

if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); everything started was stopped")
        sys.exit(130)
    except RuntimeError as e:
        log(f"failed: {e}")
        sys.exit(1)
