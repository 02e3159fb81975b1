/** Every container of the local stack (transit unsealer included) goes through components/container.ts (test/helpers/containers.ts). */
import { describeContainerSweep } from "../helpers/containers";

describeContainerSweep(
    "local",
    {},
    [],
    ["vault-server", "vault-unsealer", "snapshot-agent", "audit-shipper", "audit-archive-init"],
);
