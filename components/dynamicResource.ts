/**
 * What every `pulumi.dynamic.Resource` of this project passes to its base constructor: the inputs
 * with each output named (as `undefined`, so the engine reports it on the resource), and the options
 * with the outputs that must be stored as secrets.
 */
import type * as pulumi from "@pulumi/pulumi";

export interface DynamicOutputs<K extends string> {
    /** Every output the provider returns beyond the inputs. */
    outputs: readonly K[];
    /** Outputs (or inputs echoed back) stored encrypted in state. */
    secret?: readonly string[];
}

export function dynamicResourceArgs<A extends object, K extends string>(
    args: A,
    opts: pulumi.CustomResourceOptions | undefined,
    d: DynamicOutputs<K>,
): { props: A & Record<K, undefined>; opts: pulumi.CustomResourceOptions } {
    const outputs: Record<string, undefined> = {};
    for (const k of d.outputs) outputs[k] = undefined;
    const props: A & Record<K, undefined> = Object.assign({}, args, outputs as Record<K, undefined>);
    return { props, opts: d.secret ? { ...opts, additionalSecretOutputs: [...d.secret] } : { ...opts } };
}

/** How Pulumi reaches Vault, as resource inputs (the plain form is `Endpoint` in vault/http.ts). */
export interface EndpointArgs {
    /** https://host:port (or http:// when TLS terminates at a trusted proxy). */
    addr: pulumi.Input<string>;
    /** PEM of the CA that signed the server certificate; "" = system roots. */
    caCert: pulumi.Input<string>;
    /** Name checked against the server certificate. */
    tlsServerName: pulumi.Input<string>;
}

/** The module of this program's dynamic resources: their type is `pulumi-nodejs:dynamic/bonito:<Kind>`. */
export const DYNAMIC_MODULE = "bonito";

/** The type token Pulumi records for one of our dynamic resources (what `pulumi stack export` shows). */
export function dynamicType(kind: string): string {
    return `pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:${kind}`;
}
