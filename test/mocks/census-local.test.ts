/** The local stack's resource census against test/census/local.json: see test/census/census.ts. */
import { describeCensus } from "../census/describeCensus";

describeCensus("local");
