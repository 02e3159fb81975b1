/** The policy pack over the committed `prod` stack during a migration (`migrationWindow` set): see stackPolicies.ts. */
import { describeStackPolicies } from "./stackPolicies";

describeStackPolicies("prod", { migrationWindow: "24h" });
