/** Every container of prod with `monitoring: bundled` goes through components/container.ts (test/helpers/containers.ts). */
import { describeContainerSweep } from "../helpers/containers";
import { BUNDLED, BUNDLED_SECRET_KEYS } from "../policies/fixtures";

describeContainerSweep("prod", BUNDLED, BUNDLED_SECRET_KEYS, [
    "vault-server",
    "snapshot-agent",
    "snapshot-uploader",
    "audit-shipper",
    "prometheus",
    "alertmanager",
    "blackbox",
    "mtail",
    "metrics-agent",
]);
