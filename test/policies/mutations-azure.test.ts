/** The mutation table with cloud=azure (the Azure rows): see mutations.ts. */
import { describeMutations } from "./mutations";

describeMutations({
    cloud: "azure",
    azureLocation: "westeurope",
    azureResourceGroup: "rg-vault",
    azureAllowedIps: '["203.0.113.7"]',
});
