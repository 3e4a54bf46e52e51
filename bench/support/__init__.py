"""What the benchmarks in bench/ share: a scratch database, and a settings module with a baseline view."""

# The table the baseline view inserts into; a benchmark creates it in its scratch database.
BASELINE_TABLE = "bench_baseline"
