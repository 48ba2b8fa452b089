"""How the report is drawn: result files in, tables, charts and HTML out. Launches nothing.

select       which run directories a report covers (no pandas: bad input answered at once)
load         run directories -> typed records and tidy pandas frames
tables       one row per configuration: medians over repeats, with their spread
charts       matplotlib charts, one set per comparison group
html         the self-contained index.html
calibration  the wrk cross-check section
write        writes every report file
"""
