import asyncio
import logging
import os
import stat

import httpx
import pytest

from bonito_vault_client import VaultAuthError, VaultClient, VaultError
from conftest import ROLE_ID, SECRET_ID, SECRET_VALUE, WRAP_TOKEN, FakeVault



SECRETS = (SECRET_ID, WRAP_TOKEN, SECRET_VALUE, "CLIENTTOKEN")


def assert_clean(text: str):
    for s in SECRETS:
        assert s not in text, f"secret material {s[:12]}... leaked"


# ---------------------------------------------------------------- login / lifecycle


@pytest.mark.asyncio
async def test_login_then_read_write(fake, make_client):
    c = make_client()
    assert await c.put_secrets("db", {"url": SECRET_VALUE}) is True
    assert fake.logins == 1
    assert await c.get_secret("db", "url") == SECRET_VALUE
    assert await c.get_secret("db", "missing", "dflt") == "dflt"
    assert fake.logins == 1  # token reused


@pytest.mark.asyncio
async def test_renew_at_two_thirds_of_ttl(fake, clock, make_client):
    c = make_client()
    await c.put_secrets("a", {"k": "v"})
    clock.advance(3600 * 2 / 3 - 5)
    await c.put_secrets("a", {"k": "v"})
    assert fake.renewals == 0
    clock.advance(10)  # just past 2/3 of the TTL
    await c.put_secrets("a", {"k": "v"})
    assert fake.renewals == 1
    assert fake.logins == 1
    assert c.renew_count == 1
    # the renewed token is good for another full TTL from now
    clock.advance(3600 * 2 / 3 - 5)
    await c.put_secrets("a", {"k": "v"})
    assert fake.renewals == 1


@pytest.mark.asyncio
async def test_relogin_when_max_ttl_reached(fake, clock, make_client):
    c = make_client()
    await c.put_secrets("a", {"k": "v"})
    # walk through renewals until the 14400 s max TTL caps one
    for _ in range(8):
        clock.advance(2401)
        await c.put_secrets("a", {"k": "v"})
    assert fake.renewals >= 5
    assert fake.logins >= 2, "a capped renewal must lead to a fresh login"
    # the token in use is always valid on the server
    assert fake._token_ok(c._token)


@pytest.mark.asyncio
async def test_non_renewable_token_logs_in_again(fake, clock, make_client):
    c = make_client()
    await c.put_secrets("a", {"k": "v"})
    c._token_renewable = False
    clock.advance(2500)
    await c.put_secrets("a", {"k": "v"})
    assert fake.renewals == 0
    assert fake.logins == 2


@pytest.mark.asyncio
async def test_expired_token_403_recovers_once(fake, clock, make_client):
    c = make_client()
    await c.put_secrets("a", {"k": "v"})
    # the server revokes the token behind our back
    fake.tokens.clear()
    assert await c.put_secrets("a", {"k": "v2"}) is True
    assert fake.logins == 2
    c.clear_cache()
    assert await c.get_secrets("a") == {"k": "v2"}


@pytest.mark.asyncio
async def test_persistent_403_raises_after_one_relogin(fake, make_client):
    c = make_client()
    await c.put_secrets("a", {"k": "v"})
    fake.fail_next = [403, 403]
    with pytest.raises(VaultError) as ei:
        await c.get_secrets("a", retries=3)
    assert ei.value.status_code == 403
    assert fake.logins == 2  # one re-login, not a loop


@pytest.mark.asyncio
async def test_token_past_expiry_logs_in_without_renewing(fake, clock, make_client):
    c = make_client()
    await c.put_secrets("a", {"k": "v"})
    clock.advance(4000)  # process was suspended past the TTL
    await c.put_secrets("a", {"k": "v"})
    assert fake.renewals == 0
    assert fake.logins == 2


@pytest.mark.asyncio
async def test_concurrent_callers_share_one_login(clock, make_client):
    fake = FakeVault(clock, login_delay=0.05)
    c = VaultClient(
        env={"VAULT_ADDR": "https://v:8200", "VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": SECRET_ID},
        transport=fake.transport(),
        clock=clock,
    )
    await asyncio.gather(*(c.get_secrets(f"p{i}") for i in range(20)))
    assert fake.logins == 1


@pytest.mark.asyncio
async def test_concurrent_callers_share_one_renewal(clock):
    fake = FakeVault(clock)
    c = VaultClient(
        env={"VAULT_ADDR": "https://v:8200", "VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": SECRET_ID},
        transport=fake.transport(),
        clock=clock,
    )
    await c.get_secrets("x")
    clock.advance(2500)
    await asyncio.gather(*(c.get_secrets(f"p{i}") for i in range(20)))
    assert fake.renewals == 1
    assert fake.logins == 1


@pytest.mark.asyncio
async def test_concurrent_403s_share_one_relogin(clock):
    fake = FakeVault(clock, login_delay=0.02)
    c = VaultClient(
        env={"VAULT_ADDR": "https://v:8200", "VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": SECRET_ID},
        transport=fake.transport(),
        clock=clock,
    )
    await c.get_secrets("x")
    fake.tokens.clear()
    await asyncio.gather(*(c.get_secrets(f"p{i}") for i in range(10)))
    assert fake.logins == 2


# ---------------------------------------------------------------- wrapped secret id


@pytest.mark.asyncio
async def test_unwrap_once(fake, make_client):
    c = make_client(VAULT_SECRET_ID=None, VAULT_WRAPPED_SECRET_ID=WRAP_TOKEN)
    await c.put_secrets("a", {"k": "v"})
    fake.tokens.clear()  # force a re-login: it must reuse the unwrapped secret id
    await c.put_secrets("a", {"k": "v"})
    assert fake.unwraps == 1
    assert fake.logins == 2
    assert c._wrapped_secret_id is None


@pytest.mark.asyncio
async def test_already_unwrapped_error_names_variable_not_value(fake, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    fake.wrap_tokens.clear()  # someone else unwrapped it
    c = make_client(VAULT_SECRET_ID=None, VAULT_WRAPPED_SECRET_ID=WRAP_TOKEN)
    with pytest.raises(VaultAuthError) as ei:
        await c.get_secrets("a")
    msg = str(ei.value)
    assert "VAULT_WRAPPED_SECRET_ID" in msg
    assert "someone else unwrapped it" in msg
    assert_clean(msg)
    assert_clean(repr(ei.value))
    assert_clean(caplog.text)
    assert fake.logins == 0
    # later calls fail the same way and do not try the spent token again
    with pytest.raises(VaultAuthError) as ei2:
        await c.put_secrets("a", {"k": "v"})
    assert "someone else unwrapped it" in str(ei2.value)
    assert fake.unwraps == 1


@pytest.mark.asyncio
async def test_bad_secret_id_error_is_clean(fake, make_client):
    c = make_client(VAULT_SECRET_ID="SECRETID-wrong-must-never-leak")
    with pytest.raises(VaultAuthError) as ei:
        await c.get_secrets("a")
    assert "SECRETID" not in str(ei.value)
    assert "400" in str(ei.value)


# ---------------------------------------------------------------- no secrets anywhere


@pytest.mark.asyncio
async def test_no_secret_in_logs_repr_or_exceptions(fake, clock, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    c = make_client(VAULT_SECRET_ID=None, VAULT_WRAPPED_SECRET_ID=WRAP_TOKEN)
    await c.put_secrets("db", {"password": SECRET_VALUE})
    assert await c.get_secret("db", "password") == SECRET_VALUE
    clock.advance(2500)
    await c.put_secrets("db", {"password": SECRET_VALUE})  # renewal
    fake.tokens.clear()
    await c.put_secrets("db", {"password": SECRET_VALUE})  # 403 -> re-login
    fake.fail_next = [500, httpx.ConnectError("boom")]
    c.clear_cache()
    await c.get_secrets("db", retries=2)  # retried with warnings
    fake.fail_next = [400]
    with pytest.raises(VaultError) as ei:
        await c.put_secrets("db", {"password": SECRET_VALUE})
    assert_clean(str(ei.value))
    assert_clean(repr(c))
    assert_clean(str(c))
    assert_clean(caplog.text)
    assert "renewed" in caplog.text  # the lifecycle was logged, just not its secrets


@pytest.mark.asyncio
async def test_dev_token_warns(caplog):
    caplog.set_level(logging.WARNING)
    c = VaultClient(env={"VAULT_ADDR": "http://127.0.0.1:1"})
    assert c.auth_method == "token"
    assert "dev-mode token" in caplog.text
    assert "bonito-dev-token" not in caplog.text
    assert "bonito-dev-token" not in repr(c)


@pytest.mark.asyncio
async def test_static_token_mode_sends_token(clock):
    seen = []

    def h(req):
        seen.append(req.headers.get("X-Vault-Token"))
        return httpx.Response(200, json={"data": {"data": {"k": "v"}}})

    c = VaultClient(env={"VAULT_TOKEN": "custom"}, transport=httpx.MockTransport(h))
    assert await c.get_secrets("x") == {"k": "v"}
    assert seen == ["custom"]


# ---------------------------------------------------------------- existing semantics


@pytest.mark.asyncio
async def test_cache_and_invalidation(fake, make_client):
    c = make_client()
    await c.put_secrets("a", {"k": "1"})
    assert await c.get_secrets("a") == {"k": "1"}
    n = len(fake.requests)
    assert await c.get_secrets("a") == {"k": "1"}
    assert len(fake.requests) == n  # served from cache
    await c.put_secrets("a", {"k": "2"})  # invalidates
    assert await c.get_secrets("a") == {"k": "2"}
    await c.delete_secret("a")  # invalidates
    assert await c.get_secrets("a") == {}
    await c.put_secrets("b", {"k": "1"})
    await c.get_secrets("b")
    fake.kv["b"] = {"k": "changed"}
    assert await c.get_secrets("b") == {"k": "1"}
    c.clear_cache()
    assert await c.get_secrets("b") == {"k": "changed"}


@pytest.mark.asyncio
async def test_delete_uses_metadata_path(fake, make_client):
    c = make_client()
    await c.put_secrets("x/y", {"k": "1"})
    assert await c.delete_secret("x/y") is True
    assert ("DELETE", "/v1/bonito/metadata/x/y") in fake.requests


@pytest.mark.asyncio
async def test_missing_path_is_empty_dict_and_not_cached(fake, make_client):
    c = make_client()
    assert await c.get_secrets("nope") == {}
    fake.kv["nope"] = {"k": "v"}
    assert await c.get_secrets("nope") == {"k": "v"}


@pytest.mark.asyncio
async def test_read_retries_with_backoff(fake, make_client, sleeps):
    c = make_client(failover_wait=0)  # the `retries` argument alone (failover retry: below)
    fake.fail_next = [503, httpx.ConnectError("down"), httpx.ReadTimeout("slow")]
    fake.kv["a"] = {"k": "v"}
    assert await c.get_secrets("a", retries=3) == {"k": "v"}
    assert sleeps.calls == [1, 2, 4]


@pytest.mark.asyncio
async def test_read_retries_exhausted_raises(fake, make_client, sleeps):
    c = make_client(failover_wait=0)  # the `retries` argument alone (failover retry: below)
    await c.put_secrets("a", {"k": "v"})
    fake.fail_next = [500, 500]
    with pytest.raises(VaultError):
        await c.get_secrets("a", retries=1)
    assert sleeps.calls == [1]


@pytest.mark.asyncio
async def test_no_retry_by_default(fake, make_client, sleeps):
    c = make_client(failover_wait=0)  # the `retries` argument alone (failover retry: below)
    await c.put_secrets("a", {"k": "v"})
    fake.fail_next = [500]
    with pytest.raises(VaultError):
        await c.get_secrets("a")
    assert sleeps.calls == []


@pytest.mark.asyncio
async def test_mount_default_and_override(fake, make_client):
    c = make_client()
    assert c.mount == "bonito"
    c2 = make_client(VAULT_MOUNT="other")
    assert c2.mount == "other"


# ---------------------------------------------------------------- health


@pytest.mark.parametrize(
    "code,body,status,sealed,standby,initialized",
    [
        (200, {"initialized": True, "sealed": False, "standby": False}, "healthy", False, False, True),
        (429, {"initialized": True, "sealed": False, "standby": True}, "healthy", False, True, True),
        (503, {"initialized": True, "sealed": True, "standby": True}, "unhealthy", True, True, True),
        (501, {"initialized": False, "sealed": True, "standby": True}, "unhealthy", True, True, False),
    ],
)
@pytest.mark.asyncio
async def test_health_check(fake, make_client, code, body, status, sealed, standby, initialized):
    fake.health = (code, body)
    h = await make_client().health_check()
    assert h["status"] == status
    assert h["code"] == code
    assert h["sealed"] is sealed
    assert h["standby"] is standby
    assert h["initialized"] is initialized
    assert fake.logins == 0  # health needs no token


@pytest.mark.asyncio
async def test_health_check_unreachable():
    def h(req):
        raise httpx.ConnectError("refused")

    r = await VaultClient(env={}, transport=httpx.MockTransport(h)).health_check()
    assert r["status"] == "unhealthy"
    assert "ConnectError" in r["error"]


# ---------------------------------------------------------------- TLS


@pytest.mark.asyncio
async def test_cacert_path_is_used_as_verify():
    c = VaultClient(env={"VAULT_CACERT": "/etc/ca.pem", "VAULT_CACERT_BYTES": "ignored"})
    assert c._verify() == "/etc/ca.pem"


@pytest.mark.asyncio
async def test_cacert_bytes_written_to_private_file():
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    c = VaultClient(env={"VAULT_CACERT_BYTES": pem})
    p = c._verify()
    try:
        assert open(p).read() == pem
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
        assert c._verify() == p  # written once
    finally:
        os.unlink(p)


@pytest.mark.asyncio
async def test_no_cacert_uses_system_trust():
    assert VaultClient(env={})._verify() is True


# ---------------------------------------------------------------- unwrap CLI (for multi-worker start scripts)


def test_unwrap_cli(fake, monkeypatch, capsys):
    import functools

    import bonito_vault_client.__main__ as cli

    monkeypatch.setattr(cli, "VaultClient", functools.partial(VaultClient, transport=fake.transport()))
    monkeypatch.setenv("VAULT_ROLE_ID", ROLE_ID)
    monkeypatch.delenv("VAULT_SECRET_ID", raising=False)
    monkeypatch.setenv("VAULT_WRAPPED_SECRET_ID", WRAP_TOKEN)
    assert cli.main(["unwrap"]) == 0
    out, err = capsys.readouterr()
    assert out == SECRET_ID + "\n"
    assert cli.main(["unwrap"]) == 1  # spent
    out, err = capsys.readouterr()
    assert out == "" and "someone else unwrapped it" in err
    assert_clean(err)


# ---------------------------------------------------------------- failover (leader election, standby redirect)
# Measured on the real cluster (test/conformance/client.test.ts): after the active node is killed,
# a standby answers 307 (Location: the active node's api_addr) until forwarding works again, and
# the old active node refuses connections. Before this, every such call failed.


@pytest.mark.asyncio
async def test_follows_a_standby_redirect_to_the_active_node(fake, make_client):
    c = make_client()
    fake.kv["a"] = {"k": "v"}
    fake.redirect_next = ["https://vault-2.test:8200"]
    assert await c.get_secrets("a") == {"k": "v"}  # retries=0, as the backend calls it
    kv_hosts = [h for (m, p), h in zip(fake.requests, fake.hosts) if p.startswith("/v1/bonito/")]
    assert kv_hosts == ["vault.test", "vault-2.test"], "re-sent, with its token, to the Location"


@pytest.mark.asyncio
async def test_redirect_from_https_to_http_is_refused(fake, make_client, sleeps):
    c = make_client()
    fake.kv["a"] = {"k": "v"}
    fake.redirect_next = ["http://vault-2.test:8200"]
    with pytest.raises(VaultError, match="protocol downgrade"):
        await c.get_secrets("a")
    assert "vault-2.test" not in fake.hosts
    assert sleeps.calls == []


@pytest.mark.asyncio
async def test_reads_ride_through_a_leader_election(fake, make_client, sleeps, caplog):
    caplog.set_level(logging.DEBUG, logger="bonito.vault")
    c = make_client()
    await c.put_secrets("a", {"k": SECRET_VALUE})
    c.clear_cache()
    # the old active node refuses; a standby has no leader yet; the new active is still starting
    fake.fail_next = [httpx.ConnectError("refused"), 503, 500, httpx.ReadTimeout("slow")]
    assert await c.get_secrets("a") == {"k": SECRET_VALUE}  # retries=0
    assert sleeps.calls == [0.25, 0.5, 1.0, 2.0]
    assert "leader election or failover" in caplog.text
    assert_clean(caplog.text)


@pytest.mark.asyncio
async def test_writes_and_deletes_ride_through_a_leader_election(fake, make_client):
    c = make_client()
    fake.fail_next = [503, httpx.ConnectError("refused")]
    assert await c.put_secrets("a", {"k": "v"}) is True
    assert fake.kv["a"] == {"k": "v"}
    fake.fail_next = [502]
    assert await c.delete_secret("a") is True
    assert "a" not in fake.kv


@pytest.mark.asyncio
async def test_login_and_renewal_ride_through_a_leader_election(fake, clock, make_client):
    c = make_client()
    fake.fail_auth_next = [httpx.ConnectError("refused"), 503]
    assert await c.put_secrets("a", {"k": "v"}) is True
    assert fake.logins == 1
    clock.advance(2401)  # past 2/3 of the TTL
    fake.fail_auth_next = [500]
    assert await c.put_secrets("a", {"k": "v"}) is True
    assert fake.renewals == 1 and fake.logins == 1, "renewed after the 500, not a second login"


@pytest.mark.asyncio
async def test_failover_wait_bounds_the_wait(fake, make_client, sleeps):
    c = make_client(failover_wait=5)
    await c.put_secrets("a", {"k": "v"})
    c.clear_cache()
    fake.fail_next = [503] * 100
    with pytest.raises(VaultError) as e:
        await c.get_secrets("a")
    assert e.value.status_code == 503
    assert 5 <= sum(sleeps.calls) < 5 + 2, sleeps.calls
    assert max(sleeps.calls) == 2.0


@pytest.mark.asyncio
async def test_not_retried_client_errors_and_501(fake, make_client, sleeps):
    c = make_client()
    await c.put_secrets("a", {"k": "v"})
    c.clear_cache()
    for code in (400, 404, 501):
        fake.fail_next = [code]
        if code == 404:
            assert await c.get_secrets("a") == {}
        else:
            with pytest.raises(VaultError):
                await c.get_secrets("a")
    assert sleeps.calls == []


@pytest.mark.asyncio
async def test_tls_verification_failure_is_not_retried(clock, sleeps):
    import ssl

    def h(req):
        try:
            raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
        except ssl.SSLCertVerificationError as e:
            raise httpx.ConnectError(str(e)) from e

    c = VaultClient(
        env={"VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": SECRET_ID},
        transport=httpx.MockTransport(h),
        clock=clock,
        sleep=sleeps,
    )
    with pytest.raises(VaultError, match="CERTIFICATE_VERIFY_FAILED"):
        await c.get_secrets("a")
    assert sleeps.calls == []


@pytest.mark.asyncio
async def test_unwrap_is_retried_only_when_it_cannot_have_reached_vault(fake, make_client, sleeps):
    c = make_client(VAULT_SECRET_ID=None, VAULT_WRAPPED_SECRET_ID=WRAP_TOKEN)
    fake.fail_auth_next = [httpx.ConnectError("refused"), 503]
    assert await c.put_secrets("a", {"k": "v"}) is True
    assert fake.unwraps == 1 and sleeps.calls == [0.25, 0.5]

    # a response lost after the request was sent: the wrapping token may be spent; not sent again
    c2 = make_client(VAULT_SECRET_ID=None, VAULT_WRAPPED_SECRET_ID="hvs.other-wrap")
    fake.fail_auth_next = [httpx.ReadTimeout("slow")]
    sleeps.calls.clear()
    with pytest.raises(VaultAuthError):
        await c2.put_secrets("a", {"k": "v"})
    assert sleeps.calls == []


@pytest.mark.asyncio
async def test_health_check_is_not_retried(fake, make_client, sleeps):
    c = make_client()
    fake.health = (503, {"initialized": True, "sealed": True, "standby": False})
    r = await c.health_check()
    assert r["status"] == "unhealthy" and r["sealed"] is True
    assert fake.requests.count(("GET", "/v1/sys/health")) == 1
    assert sleeps.calls == []


def test_failover_wait_from_env_and_bad_values():
    assert VaultClient(env={}).failover_wait == 30.0
    assert VaultClient(env={"VAULT_FAILOVER_WAIT": "0"}).failover_wait == 0.0
    assert VaultClient(env={"VAULT_FAILOVER_WAIT": "12.5"}).failover_wait == 12.5
    with pytest.raises(ValueError, match=r"VAULT_FAILOVER_WAIT .*'soon'"):
        VaultClient(env={"VAULT_FAILOVER_WAIT": "soon"})
    with pytest.raises(ValueError, match="VAULT_FAILOVER_WAIT must be 0 or more"):
        VaultClient(env={"VAULT_FAILOVER_WAIT": "-1"})
