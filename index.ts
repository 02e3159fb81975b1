// bonito-vault: a production-hardened Vault for Bonito. See README.md.
import { buildProgram } from "./program";

const { outputs } = buildProgram();

export const vaultAddr = outputs.vaultAddr;
export const nodeApiAddrs = outputs.nodeApiAddrs;
export const caCert = outputs.caCert;
export const nodeNames = outputs.nodeNames;
export const image = outputs.image;
export const engine = outputs.engine;
export const cloud = outputs.cloud;
export const sealType = outputs.sealType;
export const unsealKeyId = outputs.unsealKeyId;
export const unsealIdentity = outputs.unsealIdentity;
