/**
 * The migration rows of the mutation table on the prod stack during a migration (`migrationWindow`
 * set; the committed prod stack has none), and the whole pack on that stack: see mutations.ts.
 */
import { describeMutations } from "./mutations";
import { describeStackPolicies } from "./stackPolicies";

const MIGRATION = { migrationWindow: "24h" };

describeMutations(MIGRATION, { only: (p) => p === "vault-policy-migration-least-privilege" });
describeStackPolicies("prod", MIGRATION);
