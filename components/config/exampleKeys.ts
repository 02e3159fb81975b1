/**
 * The example operator PGP keys committed in Pulumi.prod.yaml, by SHA-256 of their base64 text.
 *
 * They let the committed prod stack render and be tested, but their private halves were destroyed
 * when they were made: recovery shares encrypted to them could never be decrypted. So `loadConfig`
 * accepts them only when asked to (the mock runtime: tests and `npm run render`) and refuses them
 * for any real preview or deployment.
 */
import { createHash } from "node:crypto";

const EXAMPLE_KEY_SHA256 = new Set([
    "394a9975fcaf3787d7bfc77b1920e0312696a8986546a8052d2920bc63cde86f",
    "131ad364765b06adde6c7b7fda4ec61f3adcb2005256164c364bdc33c6618069",
    "fda20f509d15b3d49d7591ae814195a2bb775e87869db3b74a42a1fd28e0c785",
    "64639d92886e45d680f39fc8f6e13ed0d2dea371c1517bbec82ace6de2c89ffa",
    "3d3aef883017a97b059029d816ece02a93595c590fe32368c37811308fec45c8",
]);

export function isExamplePgpKey(base64: string): boolean {
    return EXAMPLE_KEY_SHA256.has(createHash("sha256").update(base64.trim()).digest("hex"));
}
