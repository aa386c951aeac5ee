"""End-to-end tests: the invalid-file corpus and the command line."""
