/** The prod-azure stack's resource census against test/census/prod-azure.json: see test/census/census.ts. */
import { describeCensus } from "../census/describeCensus";

describeCensus("prod-azure");
