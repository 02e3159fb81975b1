/** The prod stack's resource census against test/census/prod.json: see test/census/census.ts. */
import { describeCensus } from "../census/describeCensus";

describeCensus("prod");
