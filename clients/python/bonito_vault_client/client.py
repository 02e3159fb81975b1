"""
HashiCorp Vault client for the Bonito backend (AppRole edition).

Drop-in replacement for ``backend/app/core/vault.py``: same public methods
(``get_secrets``, ``get_secret``, ``put_secrets``, ``delete_secret``,
``clear_cache``, ``health_check``) and the ``vault_client`` singleton.

Authentication, from the environment a bonito-vault deployment gives
(stack output ``backendEnv``):

* ``VAULT_ROLE_ID`` + ``VAULT_SECRET_ID``: AppRole login; or
* ``VAULT_ROLE_ID`` + ``VAULT_WRAPPED_SECRET_ID``: the wrapping token is
  unwrapped once (first use) into the secret id, kept only in memory;
* neither: local dev mode with the static ``VAULT_TOKEN``
  (default ``bonito-dev-token``, which logs a warning).

The token is renewed (``auth/token/renew-self``) at 2/3 of its TTL; when a
renewal no longer extends it (max TTL reached) or Vault answers 403, the
client logs in again. One ``asyncio.Lock`` serialises login/renewal so that
concurrent requests share one login.

Failover: VAULT_ADDR names one address. A standby answers 307 with the active node's
``api_addr`` when it cannot forward a request (during and just after a leader election);
the client follows one such redirect, as Vault's own Go client does (never from https to
http). A call that meets a transient failure (connection refused/reset, timeout; 412, 429,
or a 5xx other than 501: what Vault answers while a new leader is elected or a node is
sealed; the statuses Vault's Go client retries) is sent again, 0.25 s doubling to 2 s
apart, until it succeeds or ``VAULT_FAILOVER_WAIT`` seconds (default 30; 0 turns this off)
have passed since its first attempt; then the last answer or error stands. TLS verification
failures are never retried. ``health_check()`` is never retried (it reports what it sees).
A write retried after a lost response may be applied twice: one more KV version, same data.

TLS: ``VAULT_CACERT`` (a file path) is used as ``verify=``; if only
``VAULT_CACERT_BYTES`` (PEM text) is set it is written to a private temp file.

No secret (secret id, wrapping token, client token, secret values) is ever
put in a log line, a repr or an exception message.
"""

import asyncio
import atexit
import logging
import os
import ssl
import tempfile
import time
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional

import httpx

logger = logging.getLogger("bonito.vault")

DEV_TOKEN = "bonito-dev-token"
DEFAULT_MOUNT = "bonito"
DEFAULT_ADDR = "http://vault:8200"
DEFAULT_FAILOVER_WAIT = 30.0
# What Vault's Go client (hashicorp/go-retryablehttp DefaultRetryPolicy + 412) sends again.
TRANSIENT_STATUS = frozenset({412, 429} | set(range(500, 600)) - {501})
REDIRECT_STATUS = frozenset({301, 302, 307})


class VaultError(Exception):
    """A Vault request failed. The message never carries a secret."""

    def __init__(self, message: str, status_code: Optional[int] = None):
        super().__init__(message)
        self.status_code = status_code


class VaultAuthError(VaultError):
    """Login, unwrap or renewal failed."""


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _vault_errors(resp: httpx.Response) -> str:
    """Vault's own ``errors`` list (never the raw body, which could echo data)."""
    try:
        body = resp.json()
    except Exception:
        return "no JSON body"
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)[:500]
    return "no error detail"


class VaultClient:
    def __init__(
        self,
        addr: str = None,
        token: str = None,
        mount: str = None,
        *,
        role_id: str = None,
        secret_id: str = None,
        wrapped_secret_id: str = None,
        cacert: str = None,
        cacert_bytes: str = None,
        env: Mapping[str, str] = None,
        transport: httpx.AsyncBaseTransport = None,
        clock: Callable[[], float] = None,
        sleep: Callable[[float], Awaitable[Any]] = None,
        renew_fraction: float = None,
        timeout: float = 5.0,
        failover_wait: float = None,
    ):
        env = os.environ if env is None else env
        self.addr = (addr or env.get("VAULT_ADDR") or DEFAULT_ADDR).rstrip("/")
        self.mount = (mount or env.get("VAULT_MOUNT") or DEFAULT_MOUNT).strip("/")
        self.role_id = role_id or env.get("VAULT_ROLE_ID") or None
        self._secret_id = secret_id or env.get("VAULT_SECRET_ID") or None
        self._wrapped_secret_id = (
            None if self._secret_id else (wrapped_secret_id or env.get("VAULT_WRAPPED_SECRET_ID") or None)
        )
        if self.role_id:
            self.auth_method = "approle"
            self._static_token = None
        else:
            self.auth_method = "token"
            self._static_token = token or env.get("VAULT_TOKEN") or DEV_TOKEN
            if self._static_token == DEV_TOKEN:
                logger.warning(
                    "Vault: no VAULT_ROLE_ID set; VAULT_TOKEN is the well-known dev-mode token "
                    "(local dev only). Set VAULT_ROLE_ID and VAULT_SECRET_ID/VAULT_WRAPPED_SECRET_ID in production."
                )
        self._cacert = cacert or env.get("VAULT_CACERT") or None
        self._cacert_bytes = None if self._cacert else (cacert_bytes or env.get("VAULT_CACERT_BYTES") or None)
        self._cacert_tmp: Optional[str] = None
        self._transport = transport
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        if renew_fraction is None:
            renew_fraction = float(env.get("VAULT_RENEW_FRACTION") or (2.0 / 3.0))
        if not 0.0 < renew_fraction <= 1.0:
            raise ValueError("renew_fraction must be in (0, 1]")
        self.renew_fraction = renew_fraction
        self.timeout = timeout
        if failover_wait is None:
            raw = env.get("VAULT_FAILOVER_WAIT")
            try:
                failover_wait = float(raw) if raw not in (None, "") else DEFAULT_FAILOVER_WAIT
            except ValueError:
                raise ValueError(
                    f"VAULT_FAILOVER_WAIT must be a number of seconds (0 or more), got {raw!r}"
                ) from None
        if failover_wait < 0:
            raise ValueError(f"VAULT_FAILOVER_WAIT must be 0 or more seconds, got {failover_wait!r}")
        self.failover_wait = float(failover_wait)

        self._unwrap_error: Optional[VaultAuthError] = None
        self._cache: Dict[str, dict] = {}
        self._lock: Optional[asyncio.Lock] = None
        self._lock_loop = None
        self._token: Optional[str] = None
        self._token_ttl = 0
        self._token_renewable = False
        self._token_obtained_at = 0.0
        self._token_expires_at = 0.0
        self._renew_at = 0.0
        # counters, for tests and metrics (no secrets)
        self.login_count = 0
        self.renew_count = 0

    # ------------------------------------------------------------------ repr
    def __repr__(self) -> str:
        return (
            f"VaultClient(addr={self.addr!r}, mount={self.mount!r}, "
            f"auth_method={self.auth_method!r}, role_id_set={bool(self.role_id)}, "
            f"token_set={self._token is not None or self._static_token is not None})"
        )

    __str__ = __repr__

    # ------------------------------------------------------------------ http
    def _verify(self):
        if self._cacert:
            return self._cacert
        if self._cacert_bytes:
            if self._cacert_tmp is None or not os.path.exists(self._cacert_tmp):
                fd, path = tempfile.mkstemp(prefix="bonito-vault-ca-", suffix=".pem")
                try:
                    os.fchmod(fd, 0o600)
                    os.write(fd, self._cacert_bytes.encode())
                finally:
                    os.close(fd)
                self._cacert_tmp = path
                atexit.register(_unlink_quietly, path)
            return self._cacert_tmp
        return True

    def _http(self, timeout: float = None) -> httpx.AsyncClient:
        kwargs = {"verify": self._verify(), "timeout": timeout or self.timeout}
        if self._transport is not None:
            kwargs["transport"] = self._transport
        return httpx.AsyncClient(**kwargs)

    def _url(self, api_path: str) -> str:
        return f"{self.addr}/v1/{api_path.lstrip('/')}"

    @staticmethod
    def _tls_verification_failed(e: BaseException) -> bool:
        seen = set()
        while e is not None and id(e) not in seen:
            seen.add(id(e))
            if isinstance(e, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e):
                return True
            e = e.__cause__ or e.__context__
        return False

    async def _send(
        self,
        method: str,
        api_path: str,
        headers: Dict[str, str] = None,
        json: Any = None,
        timeout: float = None,
        retry_lost_responses: bool = True,
    ) -> httpx.Response:
        """One Vault call, through leader elections: follows one redirect to the active node and
        sends again on transient failures until ``failover_wait`` has passed (see the module doc).
        ``retry_lost_responses=False`` retries only what cannot have reached Vault (a refused
        connection), for single-use calls (unwrap)."""
        deadline = self._clock() + self.failover_wait
        delay = 0.25
        attempt = 0
        while True:
            attempt += 1
            url = self._url(api_path)
            try:
                async with self._http(timeout) as client:
                    resp = await client.request(method, url, headers=headers, json=json)
                    if resp.status_code in REDIRECT_STATUS and resp.headers.get("location"):
                        # A standby pointing at the active node (its api_addr); once, as Vault's client.
                        target = resp.url.join(resp.headers["location"])
                        if resp.url.scheme == "https" and target.scheme != "https":
                            raise VaultError(
                                f"Vault redirected {api_path!r} from https to {target.scheme}: refused (protocol downgrade)"
                            )
                        resp = await client.request(method, target, headers=headers, json=json)
            except (httpx.TransportError, OSError) as e:
                if self._tls_verification_failed(e):
                    raise
                if not retry_lost_responses and not isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout)):
                    raise
                if self._clock() >= deadline:
                    raise
                reason = type(e).__name__
            else:
                # Single-use calls are sent again only on 503 (sealed, or no active node): not processed.
                if resp.status_code not in TRANSIENT_STATUS or (not retry_lost_responses and resp.status_code != 503):
                    return resp
                if self._clock() >= deadline:
                    return resp
                reason = f"HTTP {resp.status_code}"
            logger.warning(
                "Vault: %s %s: %s (leader election or failover?); attempt %d, again in %.2fs",
                method,
                api_path,
                reason,
                attempt,
                delay,
            )
            await self._sleep(delay)
            delay = min(delay * 2, 2.0)

    def _get_lock(self) -> asyncio.Lock:
        # One lock per event loop (the singleton may outlive a loop in tests).
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    # ------------------------------------------------------------------ auth
    async def _unwrap_secret_id(self) -> None:
        wrapped = self._wrapped_secret_id
        resp = await self._send(
            "POST", "sys/wrapping/unwrap", headers={"X-Vault-Token": wrapped}, retry_lost_responses=False
        )
        if resp.status_code < 500:
            # Single-use: spent (or rejected) once Vault has answered; a 5xx may be retried.
            self._wrapped_secret_id = None
        if resp.status_code in (400, 403, 404):
            self._unwrap_error = VaultAuthError(
                "VAULT_WRAPPED_SECRET_ID could not be unwrapped: the wrapping token was already "
                "used or has expired (someone else unwrapped it — treat the secret id as "
                "compromised and issue a new one). "
                f"Vault said ({resp.status_code}): {_vault_errors(resp)}",
                resp.status_code,
            )
            raise self._unwrap_error
        if resp.status_code != 200:
            raise VaultAuthError(
                f"unwrapping VAULT_WRAPPED_SECRET_ID failed ({resp.status_code}): {_vault_errors(resp)}",
                resp.status_code,
            )
        try:
            secret_id = resp.json()["data"]["secret_id"]
        except Exception:
            raise VaultAuthError(
                "VAULT_WRAPPED_SECRET_ID unwrapped, but the response has no data.secret_id "
                "(is it a wrapped AppRole secret id?)"
            ) from None
        self._secret_id = secret_id
        logger.info("Vault: unwrapped VAULT_WRAPPED_SECRET_ID into an AppRole secret id")

    def _store_auth(self, auth: dict) -> None:
        now = self._clock()
        ttl = int(auth.get("lease_duration") or 0)
        self._token = auth["client_token"]
        self._token_ttl = ttl
        self._token_renewable = bool(auth.get("renewable"))
        self._token_obtained_at = now
        self._token_expires_at = now + ttl if ttl > 0 else float("inf")
        self._renew_at = now + ttl * self.renew_fraction if ttl > 0 else float("inf")

    async def _login(self) -> None:
        if self._unwrap_error is not None:  # the wrapping token is gone: fail the same way every time
            raise VaultAuthError(str(self._unwrap_error), self._unwrap_error.status_code)
        if self._secret_id is None and self._wrapped_secret_id is not None:
            await self._unwrap_secret_id()
        if self._secret_id is None:
            raise VaultAuthError(
                "VAULT_ROLE_ID is set but neither VAULT_SECRET_ID nor VAULT_WRAPPED_SECRET_ID is"
            )
        resp = await self._send(
            "POST", "auth/approle/login", json={"role_id": self.role_id, "secret_id": self._secret_id}
        )
        if resp.status_code != 200:
            raise VaultAuthError(
                f"AppRole login failed ({resp.status_code}): {_vault_errors(resp)}", resp.status_code
            )
        try:
            auth = resp.json()["auth"]
            auth["client_token"]
        except Exception:
            raise VaultAuthError("AppRole login answered 200 without auth.client_token") from None
        self._store_auth(auth)
        self.login_count += 1
        logger.info("Vault: AppRole login ok (token TTL %ss, renewable=%s)", self._token_ttl, self._token_renewable)

    async def _renew(self) -> bool:
        """Renew the current token. True if it was extended by the full TTL;
        False if Vault refused or capped it (max TTL near): the caller logs in again."""
        asked = self._token_ttl
        try:
            resp = await self._send(
                "POST",
                "auth/token/renew-self",
                headers={"X-Vault-Token": self._token},
                json={"increment": f"{asked}s"} if asked else {},
            )
        except (httpx.TransportError, OSError) as e:
            logger.warning("Vault: token renewal failed (%s); will log in again", type(e).__name__)
            return False
        if resp.status_code != 200:
            logger.warning("Vault: token renewal refused (%s); will log in again", resp.status_code)
            return False
        try:
            auth = resp.json()["auth"]
            got = int(auth.get("lease_duration") or 0)
        except Exception:
            return False
        self.renew_count += 1
        if got <= 0 or (asked and got < asked):
            logger.info(
                "Vault: renewal granted %ss of the %ss asked (token max TTL reached); logging in again",
                got,
                asked,
            )
            return False
        auth.setdefault("client_token", self._token)
        self._store_auth(auth)
        logger.info("Vault: token renewed (TTL %ss)", got)
        return True

    async def _ensure_token(self) -> str:
        if self._static_token is not None:
            return self._static_token
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        async with self._get_lock():
            now = self._clock()
            if self._token is None or now >= self._token_expires_at:
                await self._login()
            elif now >= self._renew_at:
                renewed = self._token_renewable and await self._renew()
                if not renewed:
                    await self._login()
            return self._token

    async def _relogin_after_403(self, failed_token: str) -> None:
        async with self._get_lock():
            if self._token == failed_token:  # nobody has replaced it yet
                self._token = None
                logger.info("Vault: 403 with the current token (expired or revoked?); logging in again")
                await self._login()

    async def _request(self, method: str, api_path: str, json: Any = None, timeout: float = None) -> httpx.Response:
        """Authenticated request (through failover, see ``_send``); on 403 with an AppRole token,
        log in again and retry once."""
        token = await self._ensure_token()
        resp = await self._send(method, api_path, headers={"X-Vault-Token": token}, json=json, timeout=timeout)
        if resp.status_code == 403 and self._static_token is None:
            await self._relogin_after_403(token)
            token = await self._ensure_token()
            resp = await self._send(method, api_path, headers={"X-Vault-Token": token}, json=json, timeout=timeout)
        return resp

    # ------------------------------------------------------------------ public API (unchanged)
    async def get_secrets(self, path: str, retries: int = 0) -> dict:
        """Get all key-value pairs at a secret path.

        Args:
            retries: number of retry attempts with exponential backoff (0 = no retry)
        """
        if path in self._cache:
            return self._cache[path]

        last_error: Optional[Exception] = None
        for attempt in range(retries + 1):
            try:
                resp = await self._request("GET", f"{self.mount}/data/{path}")
                if resp.status_code == 200:
                    data = resp.json()["data"]["data"] or {}
                    self._cache[path] = data
                    return data
                elif resp.status_code == 404:
                    return {}
                elif resp.status_code >= 500 or resp.status_code == 429:
                    last_error = VaultError(
                        f"Vault error ({resp.status_code}) reading {path!r}: {_vault_errors(resp)}",
                        resp.status_code,
                    )
                else:  # 400/403: retrying will not help
                    raise VaultError(
                        f"Vault error ({resp.status_code}) reading {path!r}: {_vault_errors(resp)}",
                        resp.status_code,
                    )
            except (httpx.TransportError, OSError) as e:
                last_error = VaultError(f"Vault unreachable ({type(e).__name__}: {e})")

            if attempt < retries:
                wait = min(2**attempt, 10)  # 1s, 2s, 4s, 8s, 10s
                logger.warning(
                    "Vault unreachable (attempt %d/%d), retrying in %ss: %s",
                    attempt + 1,
                    retries + 1,
                    wait,
                    last_error,
                )
                await self._sleep(wait)

        raise last_error or VaultError("Vault unreachable after retries")

    async def get_secret(self, path: str, key: str, default: str = None) -> Optional[str]:
        """Get a single secret value."""
        secrets = await self.get_secrets(path)
        return secrets.get(key, default)

    async def put_secrets(self, path: str, data: dict) -> bool:
        """Write secrets to a path."""
        resp = await self._request("POST", f"{self.mount}/data/{path}", json={"data": data})
        if resp.status_code in (200, 204):
            self._cache.pop(path, None)  # Invalidate cache
            return True
        raise VaultError(f"Vault write error ({resp.status_code}) at {path!r}: {_vault_errors(resp)}", resp.status_code)

    async def delete_secret(self, path: str) -> bool:
        """Delete a secret at a path (all versions and metadata)."""
        resp = await self._request("DELETE", f"{self.mount}/metadata/{path}")
        if resp.status_code in (200, 204):
            self._cache.pop(path, None)  # Invalidate cache
            return True
        raise VaultError(f"Vault delete error ({resp.status_code}) at {path!r}: {_vault_errors(resp)}", resp.status_code)

    def clear_cache(self):
        """Clear the in-memory cache."""
        self._cache.clear()

    async def health_check(self) -> dict:
        """Check Vault health status (unauthenticated ``/v1/sys/health``).

        200 active, 429 standby (both healthy), 503 sealed, 501 not initialised.
        """
        try:
            async with self._http(3.0) as client:
                resp = await client.get(self._url("sys/health"))
        except Exception as e:
            return {"status": "unhealthy", "error": f"{type(e).__name__}: {e}"}
        try:
            body = resp.json()
            if not isinstance(body, dict):
                body = {}
        except Exception:
            body = {}
        code = resp.status_code
        initialized = body.get("initialized", code != 501)
        sealed = body.get("sealed", code == 503)
        standby = body.get("standby", code == 429)
        healthy = code in (200, 429) and initialized and not sealed
        result = {
            "status": "healthy" if healthy else "unhealthy",
            "code": code,
            "initialized": initialized,
            "sealed": sealed,
            "standby": standby,
        }
        if "version" in body:
            result["version"] = body["version"]
        if not healthy:
            result["error"] = (
                "not initialized" if not initialized
                else "sealed" if sealed
                else f"unexpected status {code}"
            )
        return result


# Singleton instance
vault_client = VaultClient()
