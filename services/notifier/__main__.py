"""`python -m services.notifier`: run the notifier service."""

from services.notifier.bootstrap import main

main()
