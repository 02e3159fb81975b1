/** The policy pack over the committed `local` stack: see stackPolicies.ts. */
import { describeStackPolicies } from "./stackPolicies";

describeStackPolicies("local");
