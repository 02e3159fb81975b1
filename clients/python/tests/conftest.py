"""A small in-memory fake of the Vault HTTP API, served through httpx.MockTransport."""

import asyncio
import json
import os
import sys

import httpx
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ROLE_ID = "role-0000-aaaa"
SECRET_ID = "SECRETID-must-never-leak-1111"
WRAP_TOKEN = "hvs.WRAPTOKEN-must-never-leak-2222"
SECRET_VALUE = "VALUE-must-never-leak-3333"


class Clock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


class FakeVault:
    def __init__(self, clock: Clock, ttl: int = 3600, max_ttl: int = 14400, login_delay: float = 0.0):
        self.clock = clock
        self.ttl = ttl
        self.max_ttl = max_ttl
        self.login_delay = login_delay
        self.kv = {}
        self.tokens = {}  # token -> {"expires": t, "max": t}
        self.wrap_tokens = {WRAP_TOKEN: SECRET_ID}
        self.logins = 0
        self.renewals = 0
        self.unwraps = 0
        self.requests = []
        self.hosts = []  # the host of every request, in order
        self.redirect_next = []  # Location hosts: a standby's 307 to the active node, for KV calls
        self.fail_auth_next = []  # status codes / exceptions for login, renew-self and unwrap
        self.fail_next = []  # list of status codes / exceptions to return for KV calls
        self.health = (200, {"initialized": True, "sealed": False, "standby": False, "version": "1.21.1"})
        self._n = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _token_ok(self, tok):
        info = self.tokens.get(tok)
        return info is not None and self.clock() < info["expires"]

    @staticmethod
    def _err(code, msg):
        return httpx.Response(code, json={"errors": [msg]})

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        method = request.method
        self.requests.append((method, path))
        self.hosts.append(request.url.host)
        body = json.loads(request.content) if request.content else {}
        tok = request.headers.get("X-Vault-Token")
        now = self.clock()

        if path == "/v1/sys/health":
            code, b = self.health
            return httpx.Response(code, json=b)
        if path == "/v1/sys/wrapping/unwrap":
            self.unwraps += 1
            if tok not in self.wrap_tokens:
                return self._err(400, "wrapping token is not valid or does not exist")
            sid = self.wrap_tokens.pop(tok)
            return httpx.Response(200, json={"data": {"secret_id": sid, "secret_id_accessor": "acc"}})
        if path in ("/v1/auth/approle/login", "/v1/auth/token/renew-self", "/v1/sys/wrapping/unwrap") and self.fail_auth_next:
            f = self.fail_auth_next.pop(0)
            if isinstance(f, Exception):
                raise f
            return self._err(f, "injected failure")
        if path == "/v1/auth/approle/login":
            if self.login_delay:
                await asyncio.sleep(self.login_delay)
            if body.get("role_id") != ROLE_ID or body.get("secret_id") != SECRET_ID:
                return self._err(400, "invalid role or secret ID")
            self.logins += 1
            self._n += 1
            t = f"hvs.CLIENTTOKEN-{self._n}-must-never-leak"
            self.tokens[t] = {"expires": now + self.ttl, "max": now + self.max_ttl}
            return httpx.Response(
                200, json={"auth": {"client_token": t, "lease_duration": self.ttl, "renewable": True}}
            )
        if not self._token_ok(tok):
            return self._err(403, "permission denied")
        if path == "/v1/auth/token/renew-self":
            self.renewals += 1
            info = self.tokens[tok]
            inc = int(str(body.get("increment", f"{self.ttl}s")).rstrip("s"))
            new_exp = min(now + inc, info["max"])
            info["expires"] = new_exp
            return httpx.Response(
                200,
                json={"auth": {"client_token": tok, "lease_duration": int(new_exp - now), "renewable": True}},
            )
        if self.redirect_next and path.startswith("/v1/bonito/"):
            host = self.redirect_next.pop(0)
            return httpx.Response(307, headers={"Location": f"{host}{request.url.raw_path.decode()}"})
        if self.fail_next:
            f = self.fail_next.pop(0)
            if isinstance(f, Exception):
                raise f
            return self._err(f, "injected failure")
        prefix = "/v1/bonito/"
        if path.startswith(prefix + "data/"):
            key = path[len(prefix + "data/"):]
            if method == "GET":
                if key not in self.kv:
                    return httpx.Response(404, json={"errors": []})
                return httpx.Response(200, json={"data": {"data": self.kv[key], "metadata": {}}})
            if method == "POST":
                self.kv[key] = body["data"]
                return httpx.Response(200, json={"data": {"version": 1}})
        if path.startswith(prefix + "metadata/") and method == "DELETE":
            self.kv.pop(path[len(prefix + "metadata/"):], None)
            return httpx.Response(204)
        return self._err(404, "unsupported path")


class Sleeps:
    """Records the client's sleeps; time passes on the fake clock while it "sleeps"."""

    def __init__(self, clock: Clock = None):
        self.calls = []
        self.clock = clock

    async def __call__(self, s):
        self.calls.append(s)
        if self.clock is not None:
            self.clock.advance(s)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    return FakeVault(clock)


@pytest.fixture
def sleeps(clock):
    return Sleeps(clock)


@pytest.fixture
def make_client(fake, clock, sleeps):
    from bonito_vault_client import VaultClient

    def _make(failover_wait=None, **env_over):
        env = {
            "VAULT_ADDR": "https://vault.test:8200",
            "VAULT_ROLE_ID": ROLE_ID,
            "VAULT_SECRET_ID": SECRET_ID,
        }
        env.update(env_over)
        env = {k: v for k, v in env.items() if v is not None}
        kw = {} if failover_wait is None else {"failover_wait": failover_wait}
        return VaultClient(env=env, transport=fake.transport(), clock=clock, sleep=sleeps, **kw)

    return _make
