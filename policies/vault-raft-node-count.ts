import type { ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, isProdStack, serverConfigs, storageOf, str, vaultServers } from "./lib/common";
import { NODES, nodesReason } from "./lib/limits";

/**
 * Raft needs a majority: an even count adds a node without adding failure tolerance, and fewer than
 * three nodes on prod means one lost node stops the cluster.
 *
 * One-field changes that would undo the same protection, each covered here: a node removed or added
 * (even count, fewer than 3 on prod); two nodes with the same `node_id`; storage switched to `file`
 * (or anything but raft) on prod.
 */
export const vaultRaftNodeCount: StackValidationPolicy = {
    name: "vault-raft-node-count",
    description:
        "A Raft cluster has an odd number of Vault server nodes with distinct node_ids, at least 3 on prod; file storage serves exactly one node and is not allowed on prod.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "raft", "availability"],
    configSchema: PROD_SCHEMA,
    remediationSteps: "Set `bonito-vault:nodes` to 3, 5 or 7 (prod: at least 3) and `storage: raft` on prod.",
    validateStack: (args, report) => {
        const servers = vaultServers(args);
        if (servers.length === 0) return;
        const prod = isProdStack(args);
        const storages = new Map<string, string[]>();
        const nodeIds = new Map<string, string>();
        for (const s of servers) {
            const quiet: ReportViolation = (m) => report(m, s.urn);
            for (const cfg of serverConfigs(s.props, quiet)) {
                const st = storageOf(cfg.json);
                const type = st?.type ?? "none";
                storages.set(type, [...(storages.get(type) ?? []), s.name]);
                const id = str(st?.settings.node_id);
                if (type === "raft" && id !== undefined) {
                    if (nodeIds.has(id))
                        report(
                            `Raft node_id "${id}" is used by ${nodeIds.get(id)} and ${s.name}; node_ids must be unique.`,
                            s.urn,
                        );
                    nodeIds.set(id, s.name);
                }
            }
        }
        const n = servers.length;
        const raft = storages.get("raft") ?? [];
        const file = storages.get("file") ?? [];
        if (raft.length > 0) {
            if (n % 2 === 0)
                report(
                    `The Raft cluster has ${n} Vault server nodes, an even number; use 3, 5 or 7 so a majority survives a failure.`,
                );
            if (prod && n < NODES.prodMin)
                report(`The prod Raft cluster has ${n} node${n === 1 ? "" : "s"}; nodes ${nodesReason()}.`);
        }
        if (file.length > 0) {
            if (prod) report("File storage is used on prod; prod must use raft storage with at least 3 nodes.");
            if (n !== 1) report(`File storage serves exactly one node, but the stack has ${n} Vault servers.`);
        }
        for (const [type, names] of storages)
            if (type !== "raft" && type !== "file")
                report(
                    `Vault servers ${names.join(", ")} use storage "${type}"; use raft (or file for a single non-prod node).`,
                );
    },
};
