"""`python -m services.notifier`: run the notifier service."""

from services.notifier.bootstrap import main

if __name__ == "__main__":
    main()
