/**
 * The Debian tools some unit tests run (promtool, mtail). `npm test` installs nothing and needs no
 * root: `sudo bash scripts/monitoring-tools.sh` installs them once (CI does it in its prerequisites
 * step). A test file that needs one calls this first, so a missing tool fails with what to run
 * instead of an ENOENT from deep inside a test.
 */
import { spawnSync } from "node:child_process";

export function requireTools(...tools: string[]): void {
    const missing = tools.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
    if (missing.length > 0)
        throw new Error(
            `${missing.join(", ")} not found on PATH: run \`sudo bash scripts/monitoring-tools.sh\` once (Debian/Ubuntu: installs prometheus for promtool, and mtail), then npm test again`,
        );
}
