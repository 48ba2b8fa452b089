"""`make calibrate`: the harness's throughput and latency checked against wrk, the reference.

plan      the calibration's choices (flags, validated once), the pair order, the target
sides     the two sides of a pair, wrk and the harness, and priming the server
analysis  each pair's ratio and notes, the calibration's status, medians and verdict
text      the line printed per pair and the closing report
run       one calibration: one server session, the pairs, the published directory
"""
