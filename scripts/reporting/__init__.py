"""How the report is drawn: result files in, tables, charts and HTML out. Launches nothing.

select          which run directories a report covers (no pandas: bad input answered at once)
load            run directories -> typed run records (via records.schema) and tidy frames
frames          Locust's CSV files and resource samples -> pandas frames
tables          one row per configuration: medians over repeats, with their spread
charts          which charts the data allows; draws them (in parallel) as PNG files
charts_style    a server's colour and line style, figure set-up, shared chart notes
charts_groups   one comparison group: throughput, latency percentiles, distribution
charts_time     runs over time: throughput and latency per second, resources
charts_users    throughput and latency against the number of users
html            the self-contained index.html
calibration     the wrk cross-check section
write           writes every report file
verdicts        "A vs B" from repeated runs: Welch on logs, Holm, four outcomes
"""
