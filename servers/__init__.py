"""How the sample app is run: server specs as data, and the one process supervisor."""
