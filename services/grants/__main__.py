"""`python -m services.grants`: run the grants service with settings from the environment."""

from services.grants.bootstrap import main

if __name__ == "__main__":
    main()
