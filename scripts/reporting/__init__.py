"""The report: pure functions from result files to tables, charts and verdicts."""
