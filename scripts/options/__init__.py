"""Command-line parsing shared by the entry points: one clear line and exit status 2 on bad input.

parsing    the one-line-error parser and the argparse value types
"""
