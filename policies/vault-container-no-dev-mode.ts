import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, isVaultContainer, vaultRole } from "./lib/common";

const DEV_FLAG = /^--?dev($|[-=])/;
const DEV_ENV = /^(VAULT|BAO)_DEV_[A-Z_]+=/;

/**
 * Seed §1: dev mode keeps everything in memory, starts unsealed with a known root token and no TLS.
 * The official images' default command is `server -dev`, so a Vault server with no command is dev mode too.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `-dev` (or `--dev`, `-dev=true`, `-dev-root-token-id=…`, `-dev-listen-address=…`) in the command;
 * - the same flag inside the entrypoint's shell string (`sh -ec "… vault server -dev"`): every
 *   argument is split on whitespace before it is checked;
 * - a `VAULT_DEV_*` / `BAO_DEV_*` variable in the environment;
 * - the command removed (the image default `server -dev` runs), or one without `-config=`.
 */
export const vaultContainerNoDevMode: ResourceValidationPolicy = {
    name: "vault-container-no-dev-mode",
    description:
        "Vault containers never run in dev mode (`-dev`, `-dev-*` flags, `VAULT_DEV_*` environment, or the image's default `server -dev` command).",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "hardening", "seed-1"],
    remediationSteps:
        'Run the server as `command: ["server", "-config=/vault/config/server.json"]` with the rendered config uploaded into the container; remove every `-dev*` flag and `VAULT_DEV_*`/`BAO_DEV_*` variable.',
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || !isVaultContainer(args.props)) return;
        const argv = [...arr(args.props.entrypoints ?? args.props.entrypoint), ...arr(args.props.command)]
            .map(String)
            .flatMap((a) => a.split(/\s+/))
            .map((a) => a.replace(/^["']|["';]$/g, ""));
        for (const a of argv)
            if (DEV_FLAG.test(a))
                report(
                    `Vault runs in dev mode: argument "${a}" on the command line. Remove it and run \`server -config=<file>\`.`,
                );
        for (const e of arr(args.props.envs).map(String))
            if (DEV_ENV.test(e))
                report(
                    `Vault dev-mode variable ${e.split("=")[0]} is set; remove it (dev mode is in-memory and starts with a known root token).`,
                );
        if (vaultRole(args.props) === "server") {
            const cmd = arr(args.props.command).map(String);
            if (cmd.length === 0)
                report(
                    'The Vault server container has no command, so the image default (`server -dev`) runs; set `command: ["server", "-config=/vault/config/server.json"]`.',
                );
            else if (!cmd.includes("server") || !cmd.some((a) => /^--?config=/.test(a)))
                report(
                    `The Vault server command ${JSON.stringify(cmd)} does not run \`server -config=<file>\`; start Vault from the rendered config file.`,
                );
        }
    },
};
