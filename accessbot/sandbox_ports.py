"""The sandbox's fixed ports: the URLs `accessbot dev` prints stay the same from run to run.

A module of their own so that the command's parser reads them without loading the
sandbox (and with it the profiles model).
"""

DEFAULT_SLACK_PORT = 4280
DEFAULT_TAILSCALE_PORT = 4281
DEFAULT_CONSOLE_PORT = 4282
