/** The mutation table on the committed stack as it is (cloud aws): see mutations.ts. */
import { describeMutations } from "./mutations";

describeMutations();
