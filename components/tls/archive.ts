/**
 * A ustar archive built in memory: what the Docker Engine API's `PUT /containers/{id}/archive`
 * extracts into a container, each entry with its own owner, group and mode. Docker applies the
 * header's uid/gid and mode as given (the Docker provider's `uploads` rely on the same), so a key
 * lands 0400 and owned by the server's user without a `chown` inside the container.
 *
 * Pure and dependency-free: it runs inside the NodeTls dynamic provider (serialised by Pulumi), so
 * it uses no module state and no classes.
 */

export interface ArchiveEntry {
    /** Absolute path in the container (`/vault/tls/node.pem`); stored without the leading `/`. */
    path: string;
    content: string;
    /** Octal mode bits, e.g. 0o400. */
    mode: number;
    uid: number;
    gid: number;
}

/** The ustar `name` field holds 100 bytes: longer paths would need a prefix field this writer does not use. */
export const MAX_ARCHIVE_PATH = 99;

/**
 * The archive: one 512-byte header per entry, its content padded to 512 bytes, then two zero
 * blocks. `mtime` (seconds since the epoch) is passed in so that the same input gives the same
 * bytes (tests compare them).
 */
export function tarArchive(entries: readonly ArchiveEntry[], mtime: number): Buffer {
    const blocks: Buffer[] = [];
    const octal = (n: number, width: number) => {
        const s = Math.floor(n).toString(8);
        if (s.length > width - 1) throw new Error(`tar header: ${n} does not fit ${width - 1} octal digits`);
        return s.padStart(width - 1, "0") + "\0";
    };
    for (const e of entries) {
        const name = e.path.replace(/^\/+/, "");
        if (!name || Buffer.byteLength(name) > MAX_ARCHIVE_PATH || name.split("/").includes(".."))
            throw new Error(`tar entry path not allowed: ${JSON.stringify(e.path)}`);
        const data = Buffer.from(e.content, "utf8");
        const h = Buffer.alloc(512);
        h.write(name, 0, "utf8");
        h.write(octal(e.mode & 0o7777, 8), 100, "ascii");
        h.write(octal(e.uid, 8), 108, "ascii");
        h.write(octal(e.gid, 8), 116, "ascii");
        h.write(octal(data.length, 12), 124, "ascii");
        h.write(octal(mtime, 12), 136, "ascii");
        h.write("        ", 148, "ascii"); // checksum field counts as spaces while summing
        h.write("0", 156, "ascii"); // regular file
        h.write("ustar\0", 257, "ascii");
        h.write("00", 263, "ascii");
        let sum = 0;
        for (const b of h) sum += b;
        h.write(octal(sum, 7) + " ", 148, "ascii");
        blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
    blocks.push(Buffer.alloc(1024));
    return Buffer.concat(blocks);
}

/** Read an archive back (tests, and the real tier's stand-in engine): path, mode, uid, gid, content. */
export function readTarArchive(buf: Buffer): ArchiveEntry[] {
    const out: ArchiveEntry[] = [];
    let off = 0;
    const field = (o: number, len: number) =>
        buf
            .subarray(o, o + len)
            .toString("ascii")
            .replace(/\0.*$/s, "")
            .trim();
    while (off + 512 <= buf.length) {
        const h = buf.subarray(off, off + 512);
        if (h.every((b) => b === 0)) break;
        const name = buf
            .subarray(off, off + 100)
            .toString("utf8")
            .replace(/\0.*$/s, "");
        const size = parseInt(field(off + 124, 12), 8);
        const stored = parseInt(field(off + 148, 8), 8);
        let sum = 0;
        for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
        if (sum !== stored) throw new Error(`tar header checksum mismatch at ${name}`);
        const content = buf.subarray(off + 512, off + 512 + size).toString("utf8");
        out.push({
            path: `/${name}`,
            content,
            mode: parseInt(field(off + 100, 8), 8),
            uid: parseInt(field(off + 108, 8), 8),
            gid: parseInt(field(off + 116, 8), 8),
        });
        off += 512 + Math.ceil(size / 512) * 512;
    }
    return out;
}
