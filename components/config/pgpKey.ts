/**
 * Can Vault encrypt a recovery share to this OpenPGP public key?
 *
 * Vault (helper/pgpkeys, `EncryptShares`) reads each key with ProtonMail go-crypto's
 * `openpgp.ReadEntity` and encrypts with `openpgp.Encrypt`, which takes `Entity.EncryptionKey(now)`
 * and fails with "has no valid encryption keys" when there is none. That happens at `sys/init`,
 * after every container exists; this module applies the same selection to the binary packets
 * (RFC 4880 / RFC 9580) so `loadConfig` refuses such a key first. The rules below follow go-crypto
 * v1.2.0 (the version Vault 1.21.1 is built with: `go version -m vault`), openpgp/keys.go:
 *   - the primary key's algorithm must be able to sign, and a v4 key needs a self-certified user ID;
 *   - the primary self-signature (the preferred user ID's newest self-certification, or for v6
 *     the newest direct-key signature) must exist, not be expired, nor the key be expired,
 *     created in the future, revoked (0x20), or its preferred user ID revoked (0x30);
 *   - then the newest subkey whose newest binding (0x18) carries the key flag "encrypt
 *     communications" (0x04), with an algorithm that can encrypt, not expired, not revoked (0x28);
 *   - else the primary key itself when its self-signature carries that flag and its algorithm can.
 * Signatures are not verified here (no crypto): a signature counts as the key's own when its
 * issuer (subpacket 16 or 33) is the primary key, or when it names no issuer. A forged self-
 * signature is still refused by Vault; this check only catches the honest mistakes up front.
 * Proven against the real binary in test/conformance/pgp.test.ts.
 */
import { createHash } from "node:crypto";

/** What the check found: the primary key's fingerprint (when the packets got that far) and the problem, if any. */
export interface PgpKeyVerdict {
    fingerprint?: string;
    /** Why Vault could not encrypt to the key, as a clause ("has no key that can encrypt: …"); undefined when it can. */
    problem?: string;
}

interface Packet {
    tag: number;
    body: Uint8Array;
}

interface Sig {
    type: number;
    created?: number;
    /** Seconds after the key's creation (subpacket 9); 0 or absent = never. */
    keyLifetime?: number;
    /** Seconds after the signature's creation (subpacket 3). */
    sigLifetime?: number;
    /** Key flags (subpacket 27), first octet; undefined when the subpacket is absent. */
    flags?: number;
    primaryUserId?: boolean;
    issuerKeyId?: string;
    issuerFingerprint?: string;
    /** Reason for revocation (subpacket 29), first octet. */
    revocationReason?: number;
}

interface Key {
    version: number;
    created: number;
    algorithm: number;
    fingerprint: string;
    keyId: string;
}

const CAN_ENCRYPT = new Set([1, 2, 16, 18, 25, 26]); // RSA, RSA-E, Elgamal, ECDH, X25519, X448
const CAN_SIGN = new Set([1, 3, 17, 19, 22, 27, 28]); // RSA, RSA-S, DSA, ECDSA, EdDSA, Ed25519, Ed448
const FLAG_ENCRYPT_COMMUNICATIONS = 0x04;
const KEY_COMPROMISED = 2;

class PacketError extends Error {}

/** Split the binary transferable public key into packets (old and new header formats). */
export function readPackets(data: Uint8Array): Packet[] {
    const out: Packet[] = [];
    let i = 0;
    const need = (n: number) => {
        if (i + n > data.length) throw new PacketError("the packets end early (truncated key?)");
    };
    while (i < data.length) {
        const h = data[i++];
        if ((h & 0x80) === 0) throw new PacketError(`byte ${i - 1} is not a packet header`);
        let tag: number;
        let len: number;
        if (h & 0x40) {
            tag = h & 0x3f;
            need(1);
            const o1 = data[i++];
            if (o1 < 192) len = o1;
            else if (o1 < 224) {
                need(1);
                len = ((o1 - 192) << 8) + data[i++] + 192;
            } else if (o1 === 255) {
                need(4);
                len = readUint32(data, i);
                i += 4;
            } else throw new PacketError("a key never uses partial body lengths");
        } else {
            tag = (h >> 2) & 0x0f;
            const lt = h & 0x03;
            if (lt === 3) len = data.length - i;
            else {
                const n = [1, 2, 4][lt];
                need(n);
                len = 0;
                for (let k = 0; k < n; k++) len = len * 256 + data[i + k];
                i += n;
            }
        }
        need(len);
        out.push({ tag, body: data.subarray(i, i + len) });
        i += len;
    }
    return out;
}

function readUint32(d: Uint8Array, at: number): number {
    return ((d[at] << 24) >>> 0) + (d[at + 1] << 16) + (d[at + 2] << 8) + d[at + 3];
}

function hex(b: Uint8Array): string {
    return Buffer.from(b).toString("hex").toUpperCase();
}

/** A public key or subkey packet: version, creation time, algorithm, fingerprint (v4: SHA-1, v5/v6: SHA-256). */
function readKey(body: Uint8Array): Key {
    const version = body[0];
    if (version !== 4 && version !== 5 && version !== 6)
        throw new PacketError(`it is a version ${version} key; Vault reads OpenPGP keys of version 4 or later`);
    if (body.length < 6) throw new PacketError("a key packet is truncated");
    const created = readUint32(body, 1);
    const algorithm = body[5];
    let fingerprint: string;
    let keyId: string;
    if (version === 4) {
        const head = Uint8Array.from([0x99, body.length >> 8, body.length & 0xff]);
        fingerprint = hex(createHash("sha1").update(head).update(body).digest());
        keyId = fingerprint.slice(-16);
    } else {
        const n = body.length;
        const head = Uint8Array.from([
            version === 6 ? 0x9b : 0x9a,
            n >>> 24,
            (n >> 16) & 0xff,
            (n >> 8) & 0xff,
            n & 0xff,
        ]);
        fingerprint = hex(createHash("sha256").update(head).update(body).digest());
        keyId = fingerprint.slice(0, 16);
    }
    return { version, created, algorithm, fingerprint, keyId };
}

/** A signature packet's type and the subpackets this check needs (hashed and unhashed areas). */
function readSig(body: Uint8Array): Sig {
    const version = body[0];
    if (version === 3) {
        // v3: no subpackets; hashed material is type + creation time.
        return { type: body[2], created: readUint32(body, 3), issuerKeyId: hex(body.subarray(7, 15)) };
    }
    if (version !== 4 && version !== 5 && version !== 6) throw new PacketError(`a signature of version ${version}`);
    const sig: Sig = { type: body[1] };
    const wide = version === 6; // v6: 4-octet subpacket area lengths
    let i = 4;
    for (const hashed of [true, false]) {
        const areaLen = wide ? readUint32(body, i) : (body[i] << 8) + body[i + 1];
        i += wide ? 4 : 2;
        const end = i + areaLen;
        if (end > body.length) throw new PacketError("a signature's subpackets are truncated");
        while (i < end) {
            let len = body[i++];
            if (len >= 192 && len < 255) len = ((len - 192) << 8) + body[i++] + 192;
            else if (len === 255) {
                len = readUint32(body, i);
                i += 4;
            }
            const type = body[i] & 0x7f;
            const data = body.subarray(i + 1, i + len);
            i += len;
            // Only the hashed area is trusted for what the key's owner stated (go-crypto does the same),
            // except the issuer, which may sit in either.
            if (type === 16 && data.length === 8) sig.issuerKeyId = hex(data);
            else if (type === 33 && data.length > 1) sig.issuerFingerprint = hex(data.subarray(1));
            if (!hashed) continue;
            if (type === 2) sig.created = readUint32(data, 0);
            else if (type === 3) sig.sigLifetime = readUint32(data, 0);
            else if (type === 9) sig.keyLifetime = readUint32(data, 0);
            else if (type === 27) sig.flags = data.length > 0 ? data[0] : 0;
            else if (type === 25) sig.primaryUserId = data[0] !== 0;
            else if (type === 29) sig.revocationReason = data[0];
        }
        i = end;
    }
    return sig;
}

/**
 * Whether Vault could encrypt to the key given as base64 of its binary export (`gpg --export <id> | base64 -w0`),
 * at `now` (Unix seconds).
 */
export function checkPgpKey(base64: string, now: number): PgpKeyVerdict {
    let packets: Packet[];
    try {
        packets = readPackets(Buffer.from(base64.trim(), "base64"));
    } catch (e) {
        return { problem: `is not an OpenPGP public key: ${(e as Error).message}` };
    }
    if (packets.length === 0 || (packets[0].tag !== 6 && packets[0].tag !== 5))
        return {
            problem: `is not an OpenPGP public key: its first packet is not a key (tag ${packets[0]?.tag}); export it with gpg --export <id> | base64 -w0`,
        };
    let primary: Key;
    try {
        primary = readKey(packets[0].body);
    } catch (e) {
        return { problem: `is not usable: ${(e as Error).message}` };
    }
    const fingerprint = primary.fingerprint;
    if (packets[0].tag === 5)
        return {
            fingerprint,
            problem:
                "is a SECRET key: never put it in a stack file; revoke it, make a new one and list its public half (gpg --export <id> | base64 -w0)",
        };
    try {
        return { fingerprint, problem: judge(primary, packets.slice(1), now) };
    } catch (e) {
        return { fingerprint, problem: `is not usable: ${(e as Error).message}` };
    }
}

interface Identity {
    selfSig?: Sig;
    revocations: Sig[];
}
interface Subkey {
    key: Key;
    binding?: Sig;
    revocations: Sig[];
}

function judge(primary: Key, rest: Packet[], now: number): string | undefined {
    const own = (s: Sig) =>
        (s.issuerKeyId === undefined && s.issuerFingerprint === undefined) ||
        s.issuerKeyId === primary.keyId ||
        s.issuerFingerprint === primary.fingerprint;
    const keyRevocations: Sig[] = [];
    const direct: Sig[] = [];
    const identities: Identity[] = [];
    const subkeys: Subkey[] = [];
    let current: Identity | Subkey | undefined;
    for (const p of rest) {
        if (p.tag === 6 || p.tag === 5) break; // the next key of a keyring: Vault reads only the first
        if (p.tag === 13) {
            current = { revocations: [] };
            identities.push(current);
        } else if (p.tag === 17) {
            current = undefined; // user attribute (photo): go-crypto ignores it and its signatures
        } else if (p.tag === 14 || p.tag === 7) {
            current = { key: readKey(p.body), revocations: [] };
            subkeys.push(current);
        } else if (p.tag === 2) {
            const s = readSig(p.body);
            if (current === undefined) {
                if (s.type === 0x20 && own(s)) keyRevocations.push(s);
                else if (s.type === 0x1f && own(s)) direct.push(s);
            } else if ("key" in current) {
                if (s.type === 0x28) current.revocations.push(s);
                else if (s.type === 0x18 && (current.binding === undefined || newer(s, current.binding)))
                    current.binding = s;
            } else if (own(s)) {
                if (s.type === 0x30) current.revocations.push(s);
                else if (
                    s.type >= 0x10 &&
                    s.type <= 0x13 &&
                    (current.selfSig === undefined || newer(s, current.selfSig))
                )
                    current.selfSig = s;
            }
        }
    }
    if (!CAN_SIGN.has(primary.algorithm))
        return `is not usable: its primary key's algorithm (${primary.algorithm}) cannot sign, and Vault refuses such a key`;
    const certified = identities.filter((i) => i.selfSig !== undefined);
    if (primary.version < 6 && certified.length === 0)
        return "is not usable: it has no self-signed user ID (export the whole key: gpg --export <id>)";

    let selfSig: Sig | undefined;
    let identity: Identity | undefined;
    if (primary.version === 6)
        selfSig = direct.reduce<Sig | undefined>((a, s) => (a && !newer(s, a) ? a : s), undefined);
    else {
        identity = certified.reduce<Identity | undefined>(
            (a, c) => (a === undefined || prefer(a, c) ? c : a),
            undefined,
        );
        selfSig = identity?.selfSig;
    }
    if (selfSig === undefined) return "is not usable: it has no self-signature";
    if (revoked(keyRevocations, now)) return "is revoked: make a new key (gpg --quick-gen-key) and list that instead";
    if (identity && revoked(identity.revocations, now))
        return "is not usable: its primary user ID is revoked; export a key whose user ID is valid";
    const keyExpiry = expiry(primary, selfSig);
    if (primary.created > now) return `is not usable yet: it was created in the future (${date(primary.created)})`;
    if (keyExpiry !== undefined && now > keyExpiry)
        return `expired on ${date(keyExpiry)}: extend it (gpg --quick-set-expire <fingerprint> 1y, and the same for its encryption subkey) and export it again`;
    if (sigExpired(selfSig, now)) return "is not usable: its self-signature has expired; re-sign or extend the key";

    const encrypting = subkeys.filter(
        (s) =>
            s.binding !== undefined &&
            s.binding.flags !== undefined &&
            (s.binding.flags & FLAG_ENCRYPT_COMMUNICATIONS) !== 0 &&
            CAN_ENCRYPT.has(s.key.algorithm),
    );
    const usable = encrypting.filter((s) => {
        const b = s.binding as Sig;
        const e = expiry(s.key, b);
        return !(
            s.key.created > now ||
            (e !== undefined && now > e) ||
            sigExpired(b, now) ||
            revoked(s.revocations, now)
        );
    });
    if (usable.length > 0) return undefined;
    if (
        selfSig.flags !== undefined &&
        (selfSig.flags & FLAG_ENCRYPT_COMMUNICATIONS) !== 0 &&
        CAN_ENCRYPT.has(primary.algorithm)
    )
        return undefined;
    if (encrypting.length > 0) {
        const why = encrypting.map((s) => {
            const e = expiry(s.key, s.binding as Sig);
            if (revoked(s.revocations, now)) return `${s.key.fingerprint} is revoked`;
            if (e !== undefined && now > e) return `${s.key.fingerprint} expired on ${date(e)}`;
            return `${s.key.fingerprint} is not valid now`;
        });
        return `has no valid encryption subkey (${why.join("; ")}): add one (gpg --quick-add-key <fingerprint> cv25519 encr) and export the key again`;
    }
    return "has no key that can encrypt (it is sign-only): add an encryption subkey (gpg --quick-add-key <fingerprint> cv25519 encr) and export the key again";
}

function newer(a: Sig, b: Sig): boolean {
    return (a.created ?? 0) > (b.created ?? 0);
}

/** go-crypto's shouldPreferIdentity: fewer revocations, then the primary-user-ID flag, then the newer self-signature. */
function prefer(existing: Identity, candidate: Identity): boolean {
    if (existing.revocations.length !== candidate.revocations.length)
        return existing.revocations.length > candidate.revocations.length;
    const e = existing.selfSig?.primaryUserId === true;
    const c = candidate.selfSig?.primaryUserId === true;
    if (e !== c) return c;
    return newer(candidate.selfSig as Sig, existing.selfSig as Sig);
}

function expiry(key: Key, sig: Sig): number | undefined {
    return sig.keyLifetime ? key.created + sig.keyLifetime : undefined;
}

function sigExpired(s: Sig, now: number): boolean {
    if ((s.created ?? 0) > now) return true;
    return s.sigLifetime ? now > (s.created ?? 0) + s.sigLifetime : false;
}

/** go-crypto's `revoked`: a compromised-key revocation counts always, any other while it is in force. */
function revoked(revocations: Sig[], now: number): boolean {
    return revocations.some((r) => r.revocationReason === KEY_COMPROMISED || !sigExpired(r, now));
}

function date(unix: number): string {
    return new Date(unix * 1000).toISOString().slice(0, 10);
}
