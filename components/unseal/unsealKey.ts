/**
 * UnsealKey: where Vault's auto-unseal key lives, chosen by `cloud`, and what the cluster needs to
 * use it. One interface ({@link SealDelivery}), one small module per cloud; only the selected
 * cloud's module (and so its SDK) is loaded.
 */
import * as pulumi from "@pulumi/pulumi";
import type { UnsealSettings } from "../config/unseal";
import type { SealDelivery } from "../seal";
import type { DockerTarget } from "../dockerHosts";
import type { UnsealerArgs } from "./local";

export interface UnsealKeyArgs {
    /** The unseal settings of the stack's cloud (config unseal); their `cloud` picks the module. */
    unseal: UnsealSettings;
    /** cloud local: the transit unsealer container's engine, image and names. */
    unsealer: UnsealerArgs;
    /** The Docker daemons with the cluster network; the local transit unsealer runs on `targets[0]`. */
    targets: DockerTarget[];
}

export class UnsealKey extends pulumi.ComponentResource {
    /** Stanza (identifiers only), secret env and files, and what the Vault containers wait for. */
    public readonly delivery: SealDelivery;
    /** The key's identifier: not secret. */
    public readonly keyId: pulumi.Output<string>;
    /** The identity Vault uses: not secret. */
    public readonly identity: pulumi.Output<string>;

    constructor(name: string, args: UnsealKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:UnsealKey", name, {}, opts);
        this.delivery = createUnsealKey(name, this, args);
        this.keyId = this.delivery.keyId;
        this.identity = this.delivery.identity;
        this.registerOutputs({ keyId: this.keyId, identity: this.identity });
    }
}

/* eslint-disable @typescript-eslint/no-require-imports -- lazy: an aws stack never loads azure or gcp code */
export function createUnsealKey(name: string, self: pulumi.Resource, args: UnsealKeyArgs): SealDelivery {
    const u = args.unseal;
    switch (u.cloud) {
        case "aws":
            return (require("./aws") as typeof import("./aws")).createAwsUnseal(name, self, u);
        case "azure":
            return (require("./azure") as typeof import("./azure")).createAzureUnseal(name, self, u);
        case "gcp":
            return (require("./gcp") as typeof import("./gcp")).createGcpUnseal(name, self, u);
        case "local": {
            const target = args.targets[0];
            if (!target) throw new Error("cloud local needs a Docker target for the transit unsealer");
            return (require("./local") as typeof import("./local")).createLocalUnseal(
                name,
                self,
                args.unsealer,
                u,
                target,
            );
        }
    }
}
/* eslint-enable @typescript-eslint/no-require-imports */
