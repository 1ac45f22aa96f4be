"""`python -m services.approvals`: run the approvals service."""

from services.approvals.bootstrap import main

if __name__ == "__main__":
    main()
