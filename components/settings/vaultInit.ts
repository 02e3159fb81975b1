/**
 * The bootstrap as two dynamic resources, so a failure half-way never loses a secret:
 *
 * - {@link VaultInit} checks `sys/init` and initialises once; the root token and the recovery
 *   shares land in state as Pulumi secrets (a dynamic provider cannot keep partial results, so
 *   init is its own resource: if anything after it fails, the next `pulumi up` resumes with the
 *   token from state instead of an initialised cluster nobody can log in to).
 * - {@link VaultHandover} writes Pulumi's admin policy, AppRole mount and role, issues a secret ID,
 *   proves a login with it and revokes the root token (`auth/token/revoke-self`).
 *
 * Neither logs a value; both refuse with an explanation where guessing would be unsafe.
 */
import * as pulumi from "@pulumi/pulumi";
import { dynamicResourceArgs, type EndpointArgs, DYNAMIC_MODULE } from "../dynamicResource";
import { nodeTransport, type Endpoint } from "../vault/http";
import { bootstrapError, handOver, initialise, reapplyAdmin, type HandoverInputs, type InitInputs } from "./bootstrap";

export type InitState = Endpoint &
    InitInputs & {
        rootToken: string;
        recoveryKeys: string[];
        recoveryKeysEncrypted: boolean;
        /** True when the cluster was initialised elsewhere and adopted with an operator's root token. */
        adopted: boolean;
    };

export type HandoverState = Endpoint &
    HandoverInputs & {
        rootToken: string;
        roleId: string;
        secretId: string;
    };

function adminInputs(i: HandoverInputs): HandoverInputs {
    return { mount: i.mount, roleName: i.roleName, role: i.role, policyName: i.policyName, policy: i.policy };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const RECOVERY_REKEYED_ENV = "BONITO_VAULT_RECOVERY_REKEYED";

export const initProvider: pulumi.dynamic.ResourceProvider<Endpoint & InitInputs, InitState> = {
    async create(inputs) {
        const record = await initialise(
            inputs.addr,
            {
                recoveryShares: inputs.recoveryShares,
                recoveryThreshold: inputs.recoveryThreshold,
                recoveryPgpKeys: inputs.recoveryPgpKeys,
            },
            nodeTransport(inputs),
            process.env,
        );
        return { id: `vault-init-${inputs.addr}`, outs: { ...inputs, ...record } };
    },
    async diff(_id, olds, news) {
        const recovery = ["recoveryShares", "recoveryThreshold", "recoveryPgpKeys"] as const;
        const endpoint = ["addr", "caCert", "tlsServerName"] as const;
        const changed = [...recovery, ...endpoint].filter((k) => !sameJson(olds[k], news[k]));
        return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },
    async update(_id, olds, news) {
        const recoveryChanged =
            olds.recoveryShares !== news.recoveryShares ||
            olds.recoveryThreshold !== news.recoveryThreshold ||
            !sameJson(olds.recoveryPgpKeys, news.recoveryPgpKeys);
        if (recoveryChanged && process.env[RECOVERY_REKEYED_ENV] !== "true")
            throw bootstrapError(
                "recoveryShares, recoveryThreshold and recoveryPgpKeys apply only at initialisation. Rekey the recovery keys by hand " +
                    '(`vault operator rekey -target=recovery`, docs/runbook.md "Recovery keys"), then run `pulumi up` with ' +
                    `${RECOVERY_REKEYED_ENV}=true to record the new settings; or revert the config.`,
            );
        // Only the record changes: Vault is never initialised twice. Rekeyed shares are handed out by the rekey itself.
        return { outs: { ...olds, ...news, recoveryKeys: recoveryChanged ? [] : olds.recoveryKeys } };
    },
    async delete() {
        // A cluster cannot be un-initialised; destroying the cluster's volumes removes it.
    },
};

export const handoverProvider: pulumi.dynamic.ResourceProvider<
    Endpoint & HandoverInputs & { rootToken: string },
    HandoverState
> = {
    async create(inputs) {
        const creds = await handOver(adminInputs(inputs), inputs.rootToken, nodeTransport(inputs));
        return { id: `vault-handover-${inputs.mount}`, outs: { ...inputs, ...creds } };
    },
    async diff(_id, olds, news) {
        const keys = ["mount", "roleName", "role", "policyName", "policy", "addr", "caCert", "tlsServerName"] as const;
        const changed = keys.filter((k) => !sameJson(olds[k], news[k]));
        // The root token input is revoked after create; a different value (adoption) is not a reason to act.
        return {
            changes: changed.length > 0,
            replaces: changed.includes("mount") ? ["mount"] : [],
            deleteBeforeReplace: false,
        };
    },
    async update(_id, olds, news) {
        const vaultSide = ["roleName", "role", "policyName", "policy"] as const;
        const needsVault = vaultSide.some((k) => !sameJson(olds[k], news[k]));
        if (!needsVault) return { outs: { ...olds, ...news, rootToken: olds.rootToken } };
        // The admin policy cannot widen itself: a one-time root token from generate-root applies the change.
        const { roleId } = await reapplyAdmin(adminInputs(news), nodeTransport(news), process.env);
        return {
            outs: {
                ...olds,
                ...news,
                rootToken: olds.rootToken,
                roleId: roleId || olds.roleId,
                secretId: olds.secretId,
            },
        };
    },
    async delete() {
        // The identity stays while the cluster exists; its token can no longer be used without its secret ID.
    },
};

export interface VaultInitArgs extends InitInputs, EndpointArgs {}

/** Initialise once (or adopt with an operator's root token); outputs are secret. */
export class VaultInit extends pulumi.dynamic.Resource {
    declare readonly rootToken: pulumi.Output<string>;
    declare readonly recoveryKeys: pulumi.Output<string[]>;
    declare readonly recoveryKeysEncrypted: pulumi.Output<boolean>;
    declare readonly adopted: pulumi.Output<boolean>;

    constructor(name: string, args: VaultInitArgs, opts?: pulumi.CustomResourceOptions) {
        const d = dynamicResourceArgs(args, opts, {
            outputs: ["rootToken", "recoveryKeys", "recoveryKeysEncrypted", "adopted"],
            secret: ["rootToken", "recoveryKeys"],
        });
        super(initProvider, name, d.props, d.opts, DYNAMIC_MODULE, "VaultInit");
    }
}

export interface VaultHandoverArgs extends Omit<HandoverInputs, "role">, EndpointArgs {
    role: Record<string, unknown>;
    rootToken: pulumi.Input<string>;
}

/** Pulumi's admin identity; the root token it was given is revoked when it is created. */
export class VaultHandover extends pulumi.dynamic.Resource {
    declare readonly roleId: pulumi.Output<string>;
    declare readonly secretId: pulumi.Output<string>;

    constructor(name: string, args: VaultHandoverArgs, opts?: pulumi.CustomResourceOptions) {
        const d = dynamicResourceArgs({ ...args, rootToken: pulumi.secret(args.rootToken) }, opts, {
            outputs: ["roleId", "secretId"],
            secret: ["rootToken", "roleId", "secretId"],
        });
        super(handoverProvider, name, d.props, d.opts, DYNAMIC_MODULE, "VaultHandover");
    }
}
