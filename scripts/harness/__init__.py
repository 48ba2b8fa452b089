"""How one measurement is taken.

plan           every user choice of `make bench`, validated once, then frozen
preflight      the response check before any load
locust_runner  Locust as a managed child: command line, progress, stop
wrk            wrk, the C reference load generator: run and parse
sampling       CPU and memory of the server's and the generator's process trees
machine_cpu    the whole machine's busy and steal CPU around a measurement
capacity       capacity under a latency SLO, from the windows of a step load
console        what a bench prints: progress line and closing table
calibration/   `make calibrate`: the harness checked against wrk, pair by pair
"""
