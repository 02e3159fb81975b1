/** The committed `local` stack under mocks: see test/helpers/stackChecks.ts for what this proves. */
import { describeStack } from "../helpers/stackChecks";

describeStack("local", { nodes: 3, hosts: 1, tlsMin: "tls12" });
