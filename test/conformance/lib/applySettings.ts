/**
 * Applies the program's settings plan (`renderVaultSettings`, the same object VaultSettings turns
 * into @pulumi/vault resources) to a live Vault over HTTP, in the order the engine would create
 * those resources (their declared dependencies), with Pulumi's admin AppRole token.
 *
 * This file RESTATES what @pulumi/vault does; it is test code, not a second implementation of the
 * program. The API call each resource type makes (terraform-provider-vault, which @pulumi/vault
 * wraps):
 *   vault.Audit                          PUT  sys/audit/<path>                 {type, description, options}
 *   vault.Mount                          POST sys/mounts/<path>                {type, description, options}
 *   vault.Policy                         PUT  sys/policies/acl/<name>          {policy}
 *   vault.AuthBackend                    POST sys/auth/<path>                  {type, description}
 *                                        (+ POST sys/mounts/auth/<path>/tune  {default/max lease ttl …})
 *   vault.approle.AuthBackendRole        POST auth/<mount>/role/<name>         {token_* …, bind_secret_id …}
 *                                        GET  auth/<mount>/role/<name>/role-id
 *   vault.approle.AuthBackendRoleSecretId POST auth/<mount>/role/<name>/secret-id  (X-Vault-Wrap-TTL when wrapped)
 *   vault.RaftAutopilot                  POST sys/storage/raft/autopilot/configuration
 * The provider itself logs in first: POST auth/<admin mount>/login {role_id, secret_id}.
 */
import type { VaultSettingsPlan } from "../../../components/settings/plan";
import { NAMES, policyText } from "../../../components/settings/acl";
import { roleBody } from "../../../components/settings/vaultSettings";
import { rawRequest, type RawResponse } from "./cluster";

export interface Endpoint {
    port: number;
    ca: string;
    serverName: string;
}

export interface Applied {
    adminToken: string;
    roleIds: Record<string, string>;
    /** Plain secret IDs by role (the backend's is absent when it is wrapped). */
    secretIds: Record<string, string>;
    /** The backend's wrapping token when `wrappingTtl` is set. */
    wrappedSecretId?: string;
    /** Every call made, in order: "METHOD path -> status". */
    calls: string[];
}

export class ApplyError extends Error {}

export async function adminLogin(ep: Endpoint, plan: VaultSettingsPlan, roleId: string, secretId: string) {
    const res = await rawRequest(ep.port, "POST", `/v1/auth/${plan.admin.mount}/login`, ep.ca, ep.serverName, {
        body: { role_id: roleId, secret_id: secretId },
    });
    const token = (res.body.auth as { client_token?: string } | undefined)?.client_token;
    if (res.status !== 200 || !token) throw new ApplyError(`admin login answered ${res.status}`);
    return token;
}

export async function applySettings(
    ep: Endpoint,
    plan: VaultSettingsPlan,
    admin: { roleId: string; secretId: string },
    wrappingTtl: string | undefined,
    /**
     * The rolling identity's IDs as the program declares them (RollCredential, generated before the
     * containers): written as AuthBackendRole.roleId and AuthBackendRoleSecretId (custom-secret-id).
     */
    rolling?: { roleId: string; secretId: string },
): Promise<Applied> {
    const token = await adminLogin(ep, plan, admin.roleId, admin.secretId);
    const calls: string[] = [];
    const send = async (method: string, p: string, body?: unknown, headers?: Record<string, string>) => {
        const res: RawResponse = await rawRequest(ep.port, method, `/v1/${p}`, ep.ca, ep.serverName, {
            token,
            body,
            headers,
        });
        calls.push(`${method} ${p} -> ${res.status}`);
        if (res.status >= 300)
            throw new ApplyError(
                `${method} ${p} answered ${res.status}: ${JSON.stringify(res.body.errors ?? res.body)}`,
            );
        return res.body;
    };

    if (plan.auditViaApi)
        for (const d of plan.auditDevices)
            await send("PUT", `sys/audit/${d.path}`, { type: d.type, description: d.description, options: d.options });
    await send("POST", `sys/mounts/${plan.kvMount.path}`, {
        type: plan.kvMount.type,
        description: plan.kvMount.description,
        options: plan.kvMount.options,
    });
    for (const [name, doc] of Object.entries(plan.policies))
        await send("PUT", `sys/policies/acl/${name}`, { policy: policyText(doc) });
    for (const b of plan.authBackends) {
        await send("POST", `sys/auth/${b.path}`, { type: b.type, description: b.description });
        await send("POST", `sys/mounts/auth/${b.path}/tune`, { description: b.description });
    }
    const roleIds: Record<string, string> = {};
    const secretIds: Record<string, string> = {};
    let wrappedSecretId: string | undefined;
    for (const r of plan.roles) {
        await send("POST", `auth/${r.mount}/role/${r.name}`, roleBody(r));
        if (rolling && r.name === NAMES.rollingRole)
            await send("POST", `auth/${r.mount}/role/${r.name}/role-id`, { role_id: rolling.roleId });
        const got = await send("GET", `auth/${r.mount}/role/${r.name}/role-id`);
        roleIds[r.name] = String((got.data as { role_id: string }).role_id);
    }
    for (const r of plan.roles) {
        if (rolling && r.name === NAMES.rollingRole) {
            await send("POST", `auth/${r.mount}/role/${r.name}/custom-secret-id`, { secret_id: rolling.secretId });
            secretIds[r.name] = rolling.secretId;
            continue;
        }
        const wrap = r.name === "bonito-backend" && wrappingTtl;
        const res = await send(
            "POST",
            `auth/${r.mount}/role/${r.name}/secret-id`,
            {},
            wrap ? { "X-Vault-Wrap-TTL": wrappingTtl } : undefined,
        );
        if (wrap) wrappedSecretId = String((res.wrap_info as { token: string }).token);
        else secretIds[r.name] = String((res.data as { secret_id: string }).secret_id);
    }
    if (plan.autopilot) await send("POST", "sys/storage/raft/autopilot/configuration", plan.autopilot);
    return { adminToken: token, roleIds, secretIds, wrappedSecretId, calls };
}
