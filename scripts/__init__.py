"""The harness's entry points (bench, serve, report); nothing imports this package."""
