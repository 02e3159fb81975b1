/** Declares AuditShipping for a stack under the mocks already set up (shared by the gcp, azure and local tests). */
import type { AuditShipping } from "../../components/audit/auditShipper";
import { optionRecorder, settle, valueOf } from "../helpers/mocks";
import { textUploads } from "../helpers/uploads";
import { loadConfig } from "../../components/config";

export async function declareShipping(stack: string, raw: Record<string, string>) {
    const docker = await import("@pulumi/docker");
    const { AuditShipping } = await import("../../components/audit/auditShipper");
    const { planNodes } = await import("../../components/topology");
    const config = loadConfig(stack, raw);
    const nodes = planNodes(config);
    const network = new docker.Network("net", { name: "bonito-vault" });
    const hosts = nodes.map((n) => ({ provider: undefined, network, host: `host-${n.index}` }));
    const auditVolumes = nodes.map((n) => new docker.Volume(`audit-${n.name}`, { name: n.auditVolumeName }));
    const recorder = optionRecorder();
    const shipping: AuditShipping = new AuditShipping(
        "audit-shipping",
        {
            settings: config,
            nodes,
            hosts,
            auditVolumes,
            targets: hosts,
        },
        { transformations: recorder.transformations },
    );
    await settle(shipping, ...shipping.shippers, ...shipping.localArchives);
    return {
        shipping,
        options: recorder.opts,
        url: await valueOf(shipping.archiveUrl),
        writer: await valueOf(shipping.writerIdentity),
        pending: await valueOf(shipping.pendingSteps),
        entrypoints: await Promise.all(shipping.shippers.map(async (s) => (await valueOf(s.entrypoints)) as string[])),
        uploads: await Promise.all(shipping.shippers.map((s) => textUploads(s.uploads))),
        volumes: await Promise.all(shipping.shippers.map(async (s) => await valueOf(s.volumes))),
    };
}
