"""`python -m services.intake`."""

from services.intake.bootstrap import main

if __name__ == "__main__":
    main()
