"""``python -m benchmarks``: run every benchmark, print one table, write RESULTS.md."""

from benchmarks.run import main

raise SystemExit(main(prog="python -m benchmarks"))
