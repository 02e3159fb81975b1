/** The staging stack's resource census against test/census/staging.json: see test/census/census.ts. */
import { describeCensus } from "../census/describeCensus";

describeCensus("staging");
