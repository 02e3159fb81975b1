"""Live test against a real Vault, skipped unless BONITO_LIVE_VAULT=1.

Uses the environment exactly as a deployment gets it (stack output backendEnv):
VAULT_ADDR, VAULT_ROLE_ID, VAULT_SECRET_ID or VAULT_WRAPPED_SECRET_ID,
VAULT_CACERT (a path; or VAULT_CACERT_BYTES), VAULT_MOUNT.
For a plain-http dev server leave VAULT_CACERT unset.

A wrapped secret id is single-use, so all checks run in one test with one client.
"""

import logging
import os
import uuid

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("BONITO_LIVE_VAULT") != "1", reason="live Vault test: set BONITO_LIVE_VAULT=1"
)


@pytest.mark.asyncio
async def test_live_roundtrip(caplog):
    from bonito_vault_client import VaultClient

    caplog.set_level(logging.DEBUG, logger="bonito.vault")
    assert os.environ.get("VAULT_ROLE_ID"), "VAULT_ROLE_ID must be set for the live test"
    secret_material = [
        os.environ.get(k) for k in ("VAULT_SECRET_ID", "VAULT_WRAPPED_SECRET_ID") if os.environ.get(k)
    ]
    c = VaultClient()
    assert c.auth_method == "approle"

    h = await c.health_check()
    assert h["status"] == "healthy", h
    assert h["initialized"] is True and h["sealed"] is False

    path = f"live-test/{uuid.uuid4().hex}"
    value = f"live-{uuid.uuid4().hex}"
    secret_material.append(value)
    try:
        assert await c.put_secrets(path, {"value": value, "n": "1"}) is True
        assert await c.get_secret(path, "value") == value
        assert await c.get_secrets(path) == {"value": value, "n": "1"}  # cached
        c.clear_cache()
        assert await c.get_secrets(path, retries=2) == {"value": value, "n": "1"}

        # a missing path reads as {} (no list permission needed)
        assert await c.get_secrets(f"live-test/missing-{uuid.uuid4().hex}") == {}

        # renewal through the real renew-self endpoint
        token_before = c._token
        assert c._token_renewable, "the AppRole token should be renewable"
        renewed = await c._renew()
        if renewed:
            assert c._token == token_before and c._token_ttl > 0
        else:  # near max TTL: the client must log in again
            await c._login()
        secret_material.append(c._token)
        assert await c.put_secrets(path, {"value": value, "n": "2"}) is True
        assert await c.get_secret(path, "n") == "2"

        # forced expiry of the renewal schedule -> _ensure_token renews on its own
        c._renew_at = 0
        renews = c.renew_count
        logins = c.login_count
        await c.put_secrets(path, {"value": value, "n": "3"})
        assert c.renew_count + c.login_count > renews + logins
    finally:
        assert await c.delete_secret(path) is True
    assert await c.get_secrets(path) == {}

    for s in secret_material:
        assert s not in caplog.text
        assert s not in repr(c)
