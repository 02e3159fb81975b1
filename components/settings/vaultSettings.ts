/**
 * VaultSettings: bootstrap, then everything Vault itself holds: audit devices, the KV v2 mount,
 * policies, AppRole, the backend's and the snapshot agent's credentials, autopilot.
 *
 * All values come from {@link renderVaultSettings} (pure); this file only turns them into
 * resources. The @pulumi/vault provider logs in with Pulumi's admin AppRole on every run; the
 * token it gets lives 15 minutes and can do only what the admin policy lists.
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import type { StackConfig } from "../config";
import { providerCaCertFile } from "./caFile";
import {
    renderBackendEnv,
    renderVaultSettings,
    type ApproleRole,
    type SettingsInput,
    type VaultSettingsPlan,
} from "./plan";
import { NAMES, policyText } from "./acl";
import { VaultHandover, VaultInit } from "./vaultInit";

/**
 * What the Vault-side settings are declared from: the settings keys (admin and backend addresses,
 * recovery, audit, AppRole, autopilot), the engine, node count and storage, and the stack name
 * (the provider's CA file). Plain: it decides which resources exist. The plan's `vaultSettings`.
 */
export type VaultSettingsInput = SettingsInput & Pick<StackConfig, "stack">;

export interface VaultSettingsArgs {
    settings: VaultSettingsInput;
    /** PEM of the CA that signed the node certificates; "" when TLS terminates at a trusted proxy. */
    caCert: pulumi.Input<string>;
    /** What must exist before Vault answers (the cluster's containers). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** The rolling-change identity's IDs, generated before the containers (components/rolling.ts); Raft only. */
    rollingIdentity?: { roleId: pulumi.Input<string>; secretId: pulumi.Input<string> };
}

/** The role fields `POST auth/<mount>/role/<name>` takes (drops the plan's mount and name). */
export function roleBody(r: ApproleRole): Record<string, unknown> {
    const { mount: _mount, name: _name, ...body } = r;
    void _mount;
    void _name;
    return body;
}

/** @pulumi/vault AuthBackendRole arguments for one planned role. */
export function roleArgs(r: ApproleRole, backend: pulumi.Input<string>): vault.approle.AuthBackendRoleArgs {
    return {
        backend,
        roleName: r.name,
        tokenPolicies: r.token_policies,
        tokenTtl: r.token_ttl,
        tokenMaxTtl: r.token_max_ttl,
        tokenType: r.token_type,
        tokenNumUses: r.token_num_uses,
        tokenBoundCidrs: r.token_bound_cidrs,
        bindSecretId: r.bind_secret_id,
        secretIdTtl: r.secret_id_ttl,
        secretIdNumUses: r.secret_id_num_uses,
        secretIdBoundCidrs: r.secret_id_bound_cidrs,
        ...(r.token_no_default_policy ? { tokenNoDefaultPolicy: true } : {}),
    };
}

/** Where the provider logs in as Pulumi's admin AppRole. */
export function adminLoginPath(plan: VaultSettingsPlan): string {
    return `auth/${plan.admin.mount}/login`;
}

export class VaultSettings extends pulumi.ComponentResource {
    /** The plain settings this component declared (for `npm run render` and the conformance tier). */
    readonly plan: VaultSettingsPlan;
    /** Secret: VAULT_ADDR, VAULT_ROLE_ID, VAULT_SECRET_ID or VAULT_WRAPPED_SECRET_ID, VAULT_CACERT (a path), VAULT_CACERT_BYTES (the PEM), VAULT_MOUNT. */
    readonly backendEnv: pulumi.Output<Record<string, string>>;
    readonly kvMount: pulumi.Output<string>;
    /** Secret (half of a credential): the backups area's snapshot agent role ID on `approle/`. */
    readonly snapshotAgentRoleId: pulumi.Output<string>;
    readonly snapshotAgentSecretId: pulumi.Output<string>;
    /** Secret: the recovery key shares, base64; PGP-encrypted to the operators when recoveryPgpKeys is set. */
    readonly recoveryKeys: pulumi.Output<string[]>;
    /** The provider logged in as Pulumi's admin identity, for other areas' Vault resources. */
    readonly provider: vault.Provider;
    /** Pulumi's admin AppRole credentials (secret), for dynamic resources that log in themselves (MetricsToken). */
    readonly admin: { roleId: pulumi.Output<string>; secretId: pulumi.Output<string> };
    /** Secret, while migrationWindow is set: the target credentials of `npm run migrate`. */
    readonly migrationLogin: pulumi.Output<MigrationLogin> | undefined;

    constructor(name: string, args: VaultSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:VaultSettings", name, {}, opts);
        const out = createVaultSettings(name, this, args);
        this.plan = out.plan;
        this.backendEnv = out.backendEnv;
        this.kvMount = out.kvMount;
        this.snapshotAgentRoleId = out.snapshotAgentRoleId;
        this.snapshotAgentSecretId = out.snapshotAgentSecretId;
        this.recoveryKeys = out.recoveryKeys;
        this.provider = out.provider;
        this.admin = out.admin;
        this.migrationLogin = out.migrationLogin;
        this.registerOutputs({
            backendEnv: this.backendEnv,
            kvMount: this.kvMount,
            snapshotAgentRoleId: this.snapshotAgentRoleId,
            snapshotAgentSecretId: this.snapshotAgentSecretId,
            recoveryKeys: this.recoveryKeys,
        });
    }
}

function createVaultSettings(name: string, self: VaultSettings, args: VaultSettingsArgs) {
    const cfg = args.settings;
    const plan = renderVaultSettings(cfg);
    const { init, handover } = declareBootstrap(name, self, args, plan);
    const provider = declareProvider(name, self, args, handover, plan);
    const on = { parent: self, provider };

    // Audit first, so every later change is recorded. OpenBao declares the same devices in its config file.
    const audits = plan.auditViaApi
        ? plan.auditDevices.map(
              (d) =>
                  new vault.Audit(
                      `${name}-audit-${d.path}`,
                      { type: d.type, path: d.path, description: d.description, options: d.options },
                      on,
                  ),
          )
        : [];
    // Everything else waits for the first (file) device only, so every change is recorded; a second
    // device that fails to enable (syslog without the host's /dev/log) then fails alone instead of
    // taking every later setting down with it.
    const after = { ...on, dependsOn: audits.slice(0, 1) };
    const { mount, approle, roles } = declareMountAndRoles(name, plan, on, after, audits, args.rollingIdentity);
    if (args.rollingIdentity && roles[NAMES.rollingRole])
        // The gates hold this secret ID from before the containers existed: Vault takes it as a custom secret ID.
        new vault.approle.AuthBackendRoleSecretId(
            `${name}-secret-id-${NAMES.rollingRole}`,
            {
                backend: approle.path,
                roleName: roles[NAMES.rollingRole].roleName,
                secretId: pulumi.secret(args.rollingIdentity.secretId),
            },
            { ...on, additionalSecretOutputs: ["secretId", "accessor"] },
        );

    const wrappingTtl = cfg.approle.wrappingTtl;
    const backendSecret = new vault.approle.AuthBackendRoleSecretId(
        `${name}-secret-id-${NAMES.backendRole}`,
        {
            backend: approle.path,
            roleName: roles[NAMES.backendRole].roleName,
            // With the accessor as the ID, the backend unwrapping its secret ID does not make Pulumi issue a new one.
            ...(wrappingTtl ? { wrappingTtl, withWrappedAccessor: true } : {}),
        },
        { ...on, additionalSecretOutputs: ["secretId", "wrappingToken", "accessor"] },
    );
    const snapshotSecret = new vault.approle.AuthBackendRoleSecretId(
        `${name}-secret-id-${NAMES.snapshotRole}`,
        { backend: approle.path, roleName: roles[NAMES.snapshotRole].roleName },
        { ...on, additionalSecretOutputs: ["secretId", "accessor"] },
    );
    if (plan.autopilot) declareAutopilot(name, plan.autopilot, after);
    const migrationLogin = declareMigrationLogin(name, cfg, args.caCert, approle, roles, mount, on);

    const credential = wrappingTtl ? backendSecret.wrappingToken : backendSecret.secretId;
    const backendEnv = pulumi.secret(
        pulumi
            .all([roles[NAMES.backendRole].roleId, credential, args.caCert, mount.path])
            .apply(([roleId, secret, ca, mountPath]) =>
                renderBackendEnv({
                    addr: cfg.backendAddr,
                    roleId,
                    secret,
                    wrapped: !!wrappingTtl,
                    caCert: ca,
                    caCertPath: cfg.backendCaCertPath,
                    mount: mountPath,
                }),
            ),
    );

    return {
        plan,
        provider,
        backendEnv,
        kvMount: mount.path,
        snapshotAgentRoleId: pulumi.secret(roles[NAMES.snapshotRole].roleId),
        snapshotAgentSecretId: pulumi.secret(snapshotSecret.secretId),
        recoveryKeys: pulumi.secret(init.recoveryKeys),
        admin: { roleId: pulumi.secret(handover.roleId), secretId: pulumi.secret(handover.secretId) },
        migrationLogin,
    };
}

/**
 * While migrationWindow is set: a secret ID for the bonito-migration role (it expires with the
 * window, secret_id_ttl) and everything `npm run migrate --target-login-file` needs, as one secret.
 * Undefined otherwise: unsetting the key deletes the role, its policy and this secret ID.
 */
function declareMigrationLogin(
    name: string,
    cfg: VaultSettingsInput,
    caCert: pulumi.Input<string>,
    approle: vault.AuthBackend,
    roles: Record<string, vault.approle.AuthBackendRole>,
    mount: vault.Mount,
    on: pulumi.CustomResourceOptions,
): pulumi.Output<MigrationLogin> | undefined {
    const role = roles[NAMES.migrationRole];
    if (!cfg.migration || !role) return undefined;
    const secret = new vault.approle.AuthBackendRoleSecretId(
        `${name}-secret-id-${NAMES.migrationRole}`,
        { backend: approle.path, roleName: role.roleName },
        { ...on, additionalSecretOutputs: ["secretId", "accessor"] },
    );
    return pulumi.secret(
        pulumi.all([role.roleId, secret.secretId, caCert, mount.path]).apply(([roleId, secretId, ca, kvMount]) => ({
            addr: cfg.adminAddr,
            tlsServerName: cfg.adminTlsServerName,
            caCert: ca,
            approleMount: NAMES.approleMount,
            roleId,
            secretId,
            kvMount,
        })),
    );
}

/** What `npm run migrate -- --target-login-file` reads (the `migrationLogin` stack output). */
export interface MigrationLogin {
    addr: string;
    tlsServerName: string;
    caCert: string;
    approleMount: string;
    roleId: string;
    secretId: string;
    kvMount: string;
}

/** Initialise once (recovery shares), then hand over from the root token to Pulumi's admin AppRole. */
function declareBootstrap(name: string, self: VaultSettings, args: VaultSettingsArgs, plan: VaultSettingsPlan) {
    const cfg = args.settings;
    const endpoint = { addr: cfg.adminAddr, caCert: args.caCert, tlsServerName: cfg.adminTlsServerName };

    const init = new VaultInit(
        `${name}-init`,
        {
            ...endpoint,
            recoveryShares: cfg.recovery.shares,
            recoveryThreshold: cfg.recovery.threshold,
            recoveryPgpKeys: cfg.recovery.pgpKeys,
        },
        { parent: self, dependsOn: args.dependsOn },
    );
    const handover = new VaultHandover(
        `${name}-handover`,
        {
            ...endpoint,
            rootToken: init.rootToken,
            mount: plan.admin.mount,
            roleName: plan.admin.role.name,
            role: roleBody(plan.admin.role),
            policyName: plan.admin.policyName,
            policy: policyText(plan.admin.policy),
        },
        { parent: self, dependsOn: [init] },
    );
    return { init, handover };
}

/** The @pulumi/vault provider, logged in as Pulumi's admin AppRole (never the root token). */
function declareProvider(
    name: string,
    self: VaultSettings,
    args: VaultSettingsArgs,
    handover: VaultHandover,
    plan: VaultSettingsPlan,
): vault.Provider {
    const cfg = args.settings;
    const tls = cfg.adminAddr.startsWith("https://");
    return new vault.Provider(
        `${name}-vault`,
        {
            address: cfg.adminAddr,
            ...(tls
                ? {
                      // A path below the project, kept in state; `npm run ca-file` recreates it (caFile.ts).
                      caCertFile: pulumi.output(args.caCert).apply((pem) => providerCaCertFile(cfg.stack, pem)),
                      tlsServerName: cfg.adminTlsServerName,
                  }
                : {}),
            // The login token is already short-lived and scoped; a child token would need auth/token/create.
            skipChildToken: true,
            authLogin: {
                path: adminLoginPath(plan),
                // Explicit: provider inputs are kept in state, and additionalSecretOutputs alone
                // is invisible to anything that reads these inputs before the engine does.
                parameters: { role_id: pulumi.secret(handover.roleId), secret_id: pulumi.secret(handover.secretId) },
            },
        },
        { parent: self, dependsOn: [handover] },
    );
}

/** The KV v2 mount, the ACL policies, the AppRole auth method and its roles. */
function declareMountAndRoles(
    name: string,
    plan: VaultSettingsPlan,
    on: pulumi.CustomResourceOptions,
    after: pulumi.CustomResourceOptions,
    audits: vault.Audit[],
    rollingIdentity?: VaultSettingsArgs["rollingIdentity"],
) {
    const mount = new vault.Mount(
        `${name}-kv`,
        {
            path: plan.kvMount.path,
            type: plan.kvMount.type,
            options: plan.kvMount.options,
            description: plan.kvMount.description,
        },
        after,
    );
    const policies = Object.entries(plan.policies).map(
        ([policyName, doc]) =>
            new vault.Policy(`${name}-policy-${policyName}`, { name: policyName, policy: policyText(doc) }, after),
    );
    const approle = new vault.AuthBackend(
        `${name}-approle`,
        {
            type: plan.authBackends[0].type,
            path: plan.authBackends[0].path,
            description: plan.authBackends[0].description,
        },
        after,
    );
    const roles = Object.fromEntries(
        plan.roles.map((r) => [
            r.name,
            new vault.approle.AuthBackendRole(
                `${name}-role-${r.name}`,
                {
                    ...roleArgs(r, approle.path),
                    // The rolling identity's role ID was generated before the containers (components/rolling.ts).
                    ...(r.name === NAMES.rollingRole && rollingIdentity
                        ? { roleId: pulumi.secret(rollingIdentity.roleId) }
                        : {}),
                },
                {
                    ...on,
                    dependsOn: [...audits.slice(0, 1), ...policies],
                    ...(r.name === NAMES.rollingRole ? { additionalSecretOutputs: ["roleId"] } : {}),
                },
            ),
        ]),
    );
    return { mount, approle, roles };
}

function declareAutopilot(
    name: string,
    a: NonNullable<VaultSettingsPlan["autopilot"]>,
    after: pulumi.CustomResourceOptions,
): void {
    new vault.RaftAutopilot(
        `${name}-autopilot`,
        {
            cleanupDeadServers: a.cleanup_dead_servers,
            lastContactThreshold: a.last_contact_threshold,
            deadServerLastContactThreshold: a.dead_server_last_contact_threshold,
            serverStabilizationTime: a.server_stabilization_time,
            maxTrailingLogs: a.max_trailing_logs,
            ...(a.min_quorum !== undefined ? { minQuorum: a.min_quorum } : {}),
        },
        after,
    );
}
