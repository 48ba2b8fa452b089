"""What a result file holds, and where it is written.

schema      the typed, versioned results schema: Status, RunMeta, RunSummary,
            StepSummary, WindowFigures, window.json's reader; every JSON key lives there
store       run directories (assembled, then published), atomic writes, run ids
machine     facts about the harness and machine shared by every run of a bench
locust_csv  Locust's statistics CSV read into the schema's figures
"""
