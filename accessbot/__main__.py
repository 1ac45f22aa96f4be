"""`python -m accessbot` is the `accessbot` command."""

from accessbot.cli import main

main()
