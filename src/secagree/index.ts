// Security agreement (RFC 3329 with the ipsec-3gpp mechanism of TS 33.203 Annex H): what the rest
// of the product calls.

export { authAlgOf, encAlgOf } from './algorithms.js';

export { SecAgreeError } from './errors.js';
export type { SecAgreeErrorCode } from './errors.js';
export { parseSecurityHeader } from './grammar.js';
export type { SecMechanism, SecParam } from './grammar.js';
export { OfferRejection, toIpsecOffer } from './ipsec3gpp.js';
export type { IpsecOffer, OfferRejectCode } from './ipsec3gpp.js';
export { NoOffer, selectOffer } from './select.js';
export type { NoOfferCode, Selected, SelectionPolicy } from './select.js';
export { buildSecurityServer } from './server-header.js';
export type { SecurityServerParams } from './server-header.js';
export { Mismatch, sameSecurityClient, securityListDigest, verifyMatchesServer } from './compare.js';
export type { MismatchCode } from './compare.js';
export { KeyError, extractAkaKeys } from './aka-keys.js';
export type { AkaKeys, KeyErrorCode } from './aka-keys.js';
