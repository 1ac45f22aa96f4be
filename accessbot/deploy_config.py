"""The committed deploy/nats/nats.conf, rendered from the one permission matrix."""

from __future__ import annotations

from shared.permissions import USERS, render_server_config


def render_deploy_nats_conf() -> str:
    """Config for the official NATS image: passwords come from its environment."""
    return render_server_config(
        host="0.0.0.0",  # noqa: S104 - inside the compose network
        port=4222,
        http_port=8222,
        store_dir="/data/jetstream",
        passwords=dict.fromkeys(USERS),
    )
