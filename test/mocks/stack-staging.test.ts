/** The committed `staging` stack under mocks: see test/helpers/stackChecks.ts for what this proves. */
import { describeStack } from "../helpers/stackChecks";

describeStack("staging", { nodes: 3, hosts: 1, tlsMin: "tls13" });
