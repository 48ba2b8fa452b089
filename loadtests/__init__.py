"""The load: scenarios as data, token handling, and the Locust user that runs them."""
