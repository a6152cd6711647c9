"""Run orchestration: execute the parameterized notebooks with papermill into reports/runs/<run-id>/."""
