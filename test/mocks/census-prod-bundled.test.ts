/** The prod stack with bundled monitoring: its resource census against test/census/prod-bundled.json (test/census/census.ts). */
import { describeCensus } from "../census/describeCensus";

describeCensus("prod-bundled");
