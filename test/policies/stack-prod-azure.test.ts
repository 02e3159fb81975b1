/** The policy pack over the committed `prod` stack moved to azure: see stackPolicies.ts. */
import { describeStackPolicies } from "./stackPolicies";

describeStackPolicies("prod", {
    cloud: "azure",
    azureLocation: "westeurope",
    azureResourceGroup: "rg-vault",
    azureAllowedIps: '["203.0.113.7"]',
});
