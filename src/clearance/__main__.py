"""``python -m clearance`` runs the command line, like the ``clearance`` script."""

from clearance.cli.app import main

main()
