/** The prod-gcp stack's resource census against test/census/prod-gcp.json: see test/census/census.ts. */
import { describeCensus } from "../census/describeCensus";

describeCensus("prod-gcp");
