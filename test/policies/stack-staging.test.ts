/** The policy pack over the committed `staging` stack: see stackPolicies.ts. */
import { describeStackPolicies } from "./stackPolicies";

describeStackPolicies("staging");
