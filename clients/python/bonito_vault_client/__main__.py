"""``python -m bonito_vault_client unwrap``: unwrap VAULT_WRAPPED_SECRET_ID once and print
the AppRole secret id on stdout (for a start script that runs several worker processes:
``export VAULT_SECRET_ID="$(python -m bonito_vault_client unwrap)"; unset VAULT_WRAPPED_SECRET_ID``).
Errors go to stderr and never contain the wrapping token or the secret id."""

import asyncio
import sys

from .client import VaultClient, VaultError


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["unwrap"]:
        print("usage: python -m bonito_vault_client unwrap", file=sys.stderr)
        return 2
    c = VaultClient()
    if c._wrapped_secret_id is None:
        print("VAULT_WRAPPED_SECRET_ID is not set (or VAULT_SECRET_ID already is)", file=sys.stderr)
        return 2
    try:
        asyncio.run(c._unwrap_secret_id())
    except VaultError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # transport errors: name the type only
        print(f"error: could not reach Vault to unwrap VAULT_WRAPPED_SECRET_ID ({type(e).__name__})", file=sys.stderr)
        return 1
    sys.stdout.write(c._secret_id + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
