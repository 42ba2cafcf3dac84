"""The CustomerRecords benchmark harness (Python 3 standard library only); bench/bench.py runs it.

common     paths, database credentials, log(), free ports, a clean environment for child processes
scenarios  the scenario catalogue: what each one requests from which program, and how they are grouped
servers    starting, checking and stopping MariaDB, Redis, the service, the reference program, the tutorial app
data       generating and bulk-loading the rows; the deep-page cursor
sampling   CPU time and RSS from /proc while a point is measured
loadrun    one wrk run (invocation, output parsing), one measured point, combining rounds
machine    what the report records about the machine and the commit
report     targets, ratios, the Markdown report and its quote in bench/README.md
cli        command line, the run from build to saved report, --render
"""
