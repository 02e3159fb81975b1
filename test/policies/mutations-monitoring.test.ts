/**
 * The monitoring rows of the mutation table on the prod stack with `monitoring: bundled` (the
 * committed prod stack is external), and the whole pack on that stack: see mutations.ts.
 */
import { describeMutations } from "./mutations";
import { describeStackPolicies } from "./stackPolicies";
import { BUNDLED, BUNDLED_SECRET_KEYS } from "./fixtures";

describeMutations(BUNDLED, {
    secretKeys: BUNDLED_SECRET_KEYS,
    only: (p) => p === "monitoring-alerting-path" || p === "vault-policy-metrics-least-privilege",
});
describeStackPolicies("prod", BUNDLED, BUNDLED_SECRET_KEYS);
