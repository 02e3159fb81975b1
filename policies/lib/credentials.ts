/** What a credential looks like, by name and by value. */

/** Environment variable or flag names that hold a credential. */
export const CREDENTIAL_NAME =
    /(^|[_-])(TOKEN|SECRET|SECRET_ID|SECRETID|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_KEY|ACCESS_KEY_ID|SECRET_ACCESS_KEY|SECRET_KEY|SESSION_TOKEN|CLIENT_SECRET|PRIVATE_KEY|CREDENTIALS?|ROLE_ID|UNSEAL_KEY|RECOVERY_KEY)$/i;

/** Names that only point at a credential (a file path or an address), never hold one. */
export const REFERENCE_NAME = /(_FILE|_PATH|_ADDR|_URL|_DIR)$/i;

/** Values that are credentials whatever they are called. */
export const CREDENTIAL_VALUE = [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    /\bAKIA[0-9A-Z]{16}\b/,
    /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/,
    /\bs\.[A-Za-z0-9]{24}\b/,
    /"private_key"\s*:/,
    /\bbonito-dev-token\b/,
];

/** Known dev-mode root tokens: never a real credential, always a hole. */
export const DEV_TOKENS = ["bonito-dev-token", "root", "myroot", "dev-only-token"];

/** A value that names where a credential lives rather than holding it. */
export function isReference(value: string): boolean {
    return (
        value === "" ||
        value.startsWith("/") ||
        value.startsWith("$") ||
        value.startsWith("file://") ||
        value.startsWith("@")
    );
}

export function looksLikeCredential(value: string): boolean {
    return CREDENTIAL_VALUE.some((re) => re.test(value));
}

export function isCredentialEnv(entry: string): { name: string; value: string } | undefined {
    const i = entry.indexOf("=");
    if (i <= 0) return undefined;
    const name = entry.slice(0, i);
    const value = entry.slice(i + 1);
    if (REFERENCE_NAME.test(name) || isReference(value))
        return looksLikeCredential(value) ? { name, value } : undefined;
    return CREDENTIAL_NAME.test(name) || looksLikeCredential(value) ? { name, value } : undefined;
}

/** Uploaded files that hold credentials: keys, tokens, service-account JSON. */
export function isCredentialFile(file: string, content: string | undefined): boolean {
    const base = file.slice(file.lastIndexOf("/") + 1);
    return /(key|token|secret|credential|password)[^/]*\.(pem|json|txt|key)?$/i.test(base) &&
        !/\.(crt|cert)$|cert\.pem$|ca\.pem$/i.test(base)
        ? true
        : content !== undefined && looksLikeCredential(content);
}
