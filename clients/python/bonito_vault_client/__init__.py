"""Drop-in replacement for Bonito's ``app.core.vault`` module.

    from bonito_vault_client import vault_client
"""

from .client import VaultAuthError, VaultClient, VaultError, vault_client

__all__ = ["VaultClient", "VaultError", "VaultAuthError", "vault_client"]
