/**
 * MetricsToken: the token Prometheus scrapes `sys/metrics` with, as a dynamic resource.
 *
 * Issued from the `bonito-metrics` token role (orphan, periodic, policy `bonito-metrics` only) by
 * Pulumi's admin identity, which may call nothing else of the token store but renew and revoke by
 * token. The token looks itself up; Pulumi's admin identity renews and revokes it by the token itself (`auth/token/renew`,
 * `auth/token/revoke` with the token in the body: only a caller that holds the token can name it),
 * so the admin policy needs no lookup or revoke by accessor (which would reach every token), and a
 * token bound to Prometheus's addresses (monitoringTokenBoundCidrs) is still renewed and revoked from
 * wherever Pulumi runs. A periodic token lives as long as it is renewed within its period: every `pulumi up`
 * renews it once half the period has passed. A stack left without `pulumi up` for a whole period
 * loses its metrics; VaultMetricsUnreadable says so.
 */
import * as pulumi from "@pulumi/pulumi";
import { dynamicResourceArgs, type EndpointArgs, DYNAMIC_MODULE } from "../dynamicResource";
import { appRoleLogin, bodyObject, nodeTransport, vaultError, vaultErrors, type Endpoint } from "../vault/http";
import { METRICS_TOKEN_PERIOD_SECONDS, METRICS_TOKEN_ROLE } from "./metricsPolicy";

export interface MetricsTokenInputs extends Endpoint {
    adminMount: string;
    adminRoleId: string;
    adminSecretId: string;
    role: string;
}

export interface MetricsTokenState extends MetricsTokenInputs {
    token: string;
    accessor: string;
    /** Milliseconds since the epoch of the last issue or renewal. */
    renewedAt: number;
}

async function adminLogin(i: MetricsTokenInputs): Promise<string> {
    try {
        return await appRoleLogin(nodeTransport(i), i.adminMount, i.adminRoleId, i.adminSecretId);
    } catch (e) {
        const status = e instanceof Error && "status" in e ? String(e.status) : (e as Error).message;
        throw vaultError("VaultHttpError", `MetricsToken: Pulumi's admin login answered ${status}`);
    }
}

async function issue(i: MetricsTokenInputs, admin?: string): Promise<{ token: string; accessor: string }> {
    const t = nodeTransport(i);
    admin ??= await adminLogin(i);
    const res = await t({ method: "POST", path: `auth/token/create/${i.role}`, token: admin, body: {} });
    const auth = bodyObject(bodyObject(res.body).auth);
    if (res.status !== 200 || typeof auth.client_token !== "string" || typeof auth.accessor !== "string")
        throw vaultError(
            "VaultHttpError",
            `MetricsToken: auth/token/create/${i.role} answered ${res.status}: ${vaultErrors(res.body)}`,
        );
    return { token: auth.client_token, accessor: auth.accessor };
}

export const metricsTokenProvider: pulumi.dynamic.ResourceProvider<MetricsTokenInputs, MetricsTokenState> = {
    async create(inputs) {
        const { token, accessor } = await issue(inputs);
        return { id: accessor, outs: { ...inputs, token, accessor, renewedAt: Date.now() } };
    },
    async diff(_id, olds, news) {
        const keys = ["addr", "caCert", "tlsServerName", "adminMount", "role"] as const;
        const changed = keys.filter((k) => olds[k] !== news[k]);
        // Half the period gone: this update renews it.
        const due = Date.now() - olds.renewedAt > (METRICS_TOKEN_PERIOD_SECONDS * 1000) / 2;
        return { changes: changed.length > 0 || due, replaces: changed.includes("role") ? ["role"] : [] };
    },
    // Renewal and revocation go through Pulumi's admin token with the metrics token in the body
    // (auth/token/renew, auth/token/revoke), not renew-self/revoke-self: with monitoringTokenBoundCidrs
    // the metrics token works only from Prometheus's addresses, not from where Pulumi runs, and a
    // revoke-self refused there would leave it alive after `pulumi destroy`.
    async update(_id, olds, news) {
        const t = nodeTransport(news);
        const admin = await adminLogin(news);
        const renewed = await t({
            method: "POST",
            path: "auth/token/renew",
            token: admin,
            body: { token: olds.token },
        });
        if (renewed.status === 200)
            return { outs: { ...news, token: olds.token, accessor: olds.accessor, renewedAt: Date.now() } };
        // Expired or revoked (400 "token not found"): issue a new one (Prometheus reads the file again on its next scrape).
        const { token, accessor } = await issue(news, admin);
        return { outs: { ...news, token, accessor, renewedAt: Date.now() } };
    },
    async delete(_id, olds) {
        const admin = await adminLogin(olds);
        const res = await nodeTransport(olds)({
            method: "POST",
            path: "auth/token/revoke",
            token: admin,
            body: { token: olds.token },
        });
        // Vault answers 204 also for a token that already expired or was revoked: what delete wants.
        if (res.status !== 204)
            throw vaultError(
                "VaultHttpError",
                `MetricsToken: auth/token/revoke answered ${res.status}: ${vaultErrors(res.body)}`,
            );
    },
};

export interface MetricsTokenArgs extends EndpointArgs {
    adminMount: pulumi.Input<string>;
    adminRoleId: pulumi.Input<string>;
    adminSecretId: pulumi.Input<string>;
}

export class MetricsToken extends pulumi.dynamic.Resource {
    declare readonly token: pulumi.Output<string>;
    declare readonly accessor: pulumi.Output<string>;

    constructor(name: string, args: MetricsTokenArgs, opts?: pulumi.CustomResourceOptions) {
        const inputs = {
            ...args,
            adminRoleId: pulumi.secret(args.adminRoleId),
            adminSecretId: pulumi.secret(args.adminSecretId),
            role: METRICS_TOKEN_ROLE,
        };
        const d = dynamicResourceArgs(inputs, opts, {
            outputs: ["token", "accessor", "renewedAt"],
            secret: ["token", "adminRoleId", "adminSecretId"],
        });
        super(metricsTokenProvider, name, d.props, d.opts, DYNAMIC_MODULE, "MetricsToken");
    }
}
