"""What a result file holds, and where it is written.

store    run directories (assembled, then published), atomic JSON, run ids, machine facts,
         Locust CSV summaries
"""
