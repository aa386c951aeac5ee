"""`python -m dynapcnn_dsl` runs the command line."""

from dynapcnn_dsl.cli import main

main()
