/** The committed `prod` stack under mocks: see test/helpers/stackChecks.ts for what this proves. */
import { describeStack } from "../helpers/stackChecks";

describeStack("prod", { nodes: 3, hosts: 3, tlsMin: "tls13" });
