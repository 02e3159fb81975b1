/**
 * The bonito-vault policy pack: the production hardening guide as mandatory rules. Each rule lives in
 * its own file; this file only assembles them (importing it starts the policy server, so tests
 * import the rule modules instead).
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("bonito-vault", {
    description: "Enforces the bonito-vault production hardening guide (seed) on every preview and update.",
    enforcementLevel: "mandatory",
    policies: POLICIES,
});
