/**
 * AlertmanagerWebCredentials: the one user of the bundled Alertmanager's web API, as a dynamic
 * resource.
 *
 * Alertmanager's API has no authorization of its own: anyone who reaches it can read the running
 * configuration (`GET /api/v2/status`, which in 0.25 shows a webhook receiver URL in clear), create
 * silences and post alerts. The bundled Alertmanager therefore serves its API behind HTTP basic auth
 * (`--web.config.file`, exporter-toolkit's `basic_auth_users`, Alertmanager >= 0.22), and Prometheus
 * sends alerts with the same user (`alerting.alertmanagers[].basic_auth.password_file`).
 *
 * The password is 32 random bytes (base64url) and its bcrypt hash (the only form the web config
 * accepts) is computed once, at create: both stay in state as Pulumi secrets, so a later `pulumi up`
 * renders the same files and replaces no container. bcrypt's salt is random, so hashing on every run
 * would change the uploaded file each time. Cost 10: the password is 256 random bits, so the hash's
 * cost is not what protects it; a higher cost only slows every request Alertmanager checks.
 * A new password: `pulumi up --replace <this resource's URN>` (the containers follow).
 */
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { hashSync } from "bcryptjs";
import { dynamicResourceArgs, DYNAMIC_MODULE } from "../dynamicResource";

/** The user Prometheus and operators present to the bundled Alertmanager. */
export const ALERTMANAGER_WEB_USER = "bonito";
export const ALERTMANAGER_BCRYPT_COST = 10;

export interface AlertmanagerWebInputs {
    username: string;
    cost: number;
}

export interface AlertmanagerWebState extends AlertmanagerWebInputs {
    password: string;
    /** bcrypt ($2b$) of `password`. */
    passwordHash: string;
}

export const alertmanagerWebProvider: pulumi.dynamic.ResourceProvider<AlertmanagerWebInputs, AlertmanagerWebState> = {
    async create(inputs) {
        const password = randomBytes(32).toString("base64url");
        const passwordHash = hashSync(password, inputs.cost);
        return {
            id: `alertmanager-web-${randomBytes(6).toString("hex")}`,
            outs: { ...inputs, password, passwordHash },
        };
    },
    async diff(_id, olds, news) {
        const changed = (["username", "cost"] as const).filter((k) => olds[k] !== news[k]);
        return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
    },
};

export class AlertmanagerWebCredentials extends pulumi.dynamic.Resource {
    declare readonly username: pulumi.Output<string>;
    /** Secret. */
    declare readonly password: pulumi.Output<string>;
    /** Secret. */
    declare readonly passwordHash: pulumi.Output<string>;

    constructor(name: string, opts?: pulumi.CustomResourceOptions) {
        const d = dynamicResourceArgs({ username: ALERTMANAGER_WEB_USER, cost: ALERTMANAGER_BCRYPT_COST }, opts, {
            outputs: ["password", "passwordHash"],
            secret: ["password", "passwordHash"],
        });
        super(alertmanagerWebProvider, name, d.props, d.opts, DYNAMIC_MODULE, "AlertmanagerWebCredentials");
    }
}
