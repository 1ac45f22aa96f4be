"""The rights defined once on the profile model: deciding and revoking."""

from __future__ import annotations

from shared.profiles import Approvers, ProfilesConfig, SelfApproval


def _config() -> ProfilesConfig:
    return ProfilesConfig.model_validate(
        {
            "admins": ["secops@example.com"],
            "profiles": [
                {
                    "id": "prod",
                    "description": "Production",
                    "attribute": "custom:prod",
                    "approvers": {"emails": ["alice@example.com", "bob@example.com"]},
                }
            ],
        }
    )


def test_a_listed_approver_decides_but_not_on_their_own_request_unless_allowed() -> None:
    [prod] = _config().profiles
    assert prod.may_decide("Bob@Example.com", requester="alice@example.com")
    assert not prod.may_decide("mallory@example.com", requester="alice@example.com")
    assert not prod.may_decide("alice@example.com", requester="ALICE@example.com")
    assert prod.eligible_approvers("alice@example.com") == ["bob@example.com"]
    for allowed in (SelfApproval.ALLOWED, SelfApproval.CONFIRM):
        own = prod.model_copy(update={"self_approval": allowed})
        assert own.may_decide("alice@example.com", requester="alice@example.com")
        assert own.eligible_approvers("alice@example.com") == [
            "alice@example.com",
            "bob@example.com",
        ]


def test_revoking_is_judged_by_profiles_yaml_as_loaded_now() -> None:
    config = _config()
    assert config.may_revoke("bob@example.com", requester="carol@example.com", profile_id="prod")
    [prod] = config.profiles
    without_bob = config.model_copy(
        update={
            "profiles": [
                prod.model_copy(update={"approvers": Approvers(emails=["alice@example.com"])})
            ]
        }
    )
    assert not without_bob.may_revoke(
        "bob@example.com", requester="carol@example.com", profile_id="prod"
    )
    # the requester and the admins keep the right, even when the profile is gone
    gone = config.model_copy(update={"profiles": []})
    assert gone.may_revoke("Carol@Example.com", requester="carol@example.com", profile_id="prod")
    assert gone.may_revoke("SECOPS@example.com", requester="carol@example.com", profile_id="prod")
    assert not gone.may_revoke("bob@example.com", requester="carol@example.com", profile_id="prod")
