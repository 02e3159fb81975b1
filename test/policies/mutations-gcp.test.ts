/** The mutation table with cloud=gcp (the GCP rows): see mutations.ts. */
import { describeMutations } from "./mutations";

describeMutations({ cloud: "gcp", gcpProject: "acme-vault", gcpLocation: "europe-west1" });
