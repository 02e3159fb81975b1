"""Real-server tier (test/conformance/client.test.ts): a token that expires during a run.

Run by the conformance test, never by pytest (not a test_*.py file). The environment is the
backend's (``backendEnv``: VAULT_ADDR, VAULT_ROLE_ID, VAULT_SECRET_ID, VAULT_CACERT, VAULT_MOUNT),
for a test AppRole with short token TTLs (e.g. token_ttl 3 s, token_max_ttl 8 s). For
LIVE_DURATION seconds the client writes, reads back (cache cleared, so every read reaches Vault)
and, now and then, idles longer than the token TTL. Every call must succeed.

Prints one JSON line: calls, failures (error type and message: never a secret), the client's own
login/renewal counters, and the run's time span (wall clock, for matching the audit log). Exit 1
if any call failed.
"""

import asyncio
import json
import logging
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bonito_vault_client import VaultClient  # noqa: E402


async def main() -> int:
    duration = float(os.environ.get("LIVE_DURATION", "20"))
    idle = float(os.environ.get("LIVE_IDLE", "0"))  # one idle pause (s) half-way, 0 = none
    prefix = os.environ.get("LIVE_PREFIX") or f"live-expiry/{uuid.uuid4().hex}"
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    c = VaultClient()
    assert c.auth_method == "approle", "VAULT_ROLE_ID must be set"
    calls = 0
    failures = []
    start_wall = time.time()
    t0 = time.monotonic()
    i = 0
    idled = idle <= 0
    while time.monotonic() - t0 < duration:
        if not idled and time.monotonic() - t0 >= duration / 2:
            await asyncio.sleep(idle)
            idled = True
        path = f"{prefix}/k{i % 5}"
        value = f"v{i}"
        for op in ("write", "read"):
            calls += 1
            try:
                if op == "write":
                    assert await c.put_secrets(path, {"value": value}) is True
                else:
                    c.clear_cache()
                    got = await c.get_secret(path, "value")
                    if got != value:
                        raise AssertionError(f"read back {got!r}, wrote {value!r}")
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failures.append({"t": round(time.monotonic() - t0, 3), "op": op, "error": f"{type(e).__name__}: {e}"})
        i += 1
        await asyncio.sleep(0.1)
    for k in range(5):
        calls += 1
        try:
            await c.delete_secret(f"{prefix}/k{k}")
        except Exception as e:  # noqa: BLE001
            failures.append({"op": "delete", "error": f"{type(e).__name__}: {e}"})
    print(
        json.dumps(
            {
                "calls": calls,
                "failures": failures,
                "logins": c.login_count,
                "renewals": c.renew_count,
                "prefix": prefix,
                "start": start_wall,
                "end": time.time(),
            }
        ),
        flush=True,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
