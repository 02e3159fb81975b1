"""Real-server tier (test/conformance/drills.test.ts): one deployment of the backend, as Railway runs it.

Run by the conformance test, never by pytest (not a test_*.py file). The environment is the
backend's (``backendEnv``: VAULT_ADDR, VAULT_ROLE_ID, VAULT_SECRET_ID or VAULT_WRAPPED_SECRET_ID,
VAULT_CACERT, VAULT_MOUNT). The client reads its credentials once, when the process starts (as the
backend's ``vault_client`` singleton does): a new secret ID reaches it only through a new deployment,
that is a new process with the new variables.

Until SIGTERM (how Railway stops the old deployment), it writes one secret under LIVE_PREFIX and
reads it back (cache cleared, so every read reaches Vault), every LIVE_INTERVAL seconds. It prints
``ready`` once the first write and read succeeded (the deployment's healthcheck), and at exit one
JSON line: calls, failures (error type and message: never a secret), the client's login count.
Exit 1 if any call failed.
"""

import asyncio
import json
import logging
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bonito_vault_client import VaultClient  # noqa: E402


async def main() -> int:
    prefix = os.environ["LIVE_PREFIX"]
    interval = float(os.environ.get("LIVE_INTERVAL", "0.05"))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    c = VaultClient()
    assert c.auth_method == "approle", "VAULT_ROLE_ID must be set"
    calls = 0
    failures = []
    ready = False
    i = 0
    while not stop.is_set():
        path = f"{prefix}/k{i % 5}"
        value = f"v{i}"
        ok = True
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
                ok = False
                failures.append({"op": op, "error": f"{type(e).__name__}: {e}"})
        if ok and not ready:
            ready = True
            print("ready", flush=True)
        i += 1
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except asyncio.TimeoutError:
            pass
    print(json.dumps({"calls": calls, "failures": failures, "logins": c.login_count}), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
