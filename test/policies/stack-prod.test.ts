/** The policy pack over the committed `prod` stack: see stackPolicies.ts. */
import { describeStackPolicies } from "./stackPolicies";

describeStackPolicies("prod");
