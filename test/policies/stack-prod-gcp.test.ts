/** The policy pack over the committed `prod` stack moved to gcp: see stackPolicies.ts. */
import { describeStackPolicies } from "./stackPolicies";

describeStackPolicies("prod", { cloud: "gcp", gcpProject: "acme-vault", gcpLocation: "europe-west1" });
