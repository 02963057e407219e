// The registration binding held in the contact table: the contract between the table and the
// engine. One binding per registered contact of a UE (kamailio-behaviour.md §3: pcontact_t with
// its ipsec_t), with the SA set created for it and, during a re-registration, the previous set.

import type { Transport } from '../engine/plan.js';
import type { AuthAlg, EncAlg } from '../ipsec/algorithms.js';

export type BindingState = 'pending' | 'registered' | 'deregistering';

/** Stored as their index in these lists (algorithms: in AUTH_ALGS / ENC_ALGS of src/ipsec/algorithms.ts). */
export const BINDING_STATES: readonly BindingState[] = ['pending', 'registered', 'deregistering'];
export const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];

/** One security association set (kamailio-behaviour.md §3 ipsec_t). All times are unix seconds
 * (fractions allowed). */
export interface SaSet {
  /** UE side, from Security-Client. */
  spiUc: number;
  spiUs: number;
  portUc: number;
  portUs: number;
  /** P-CSCF side, allocated here. */
  spiPc: number;
  spiPs: number;
  portPc: number;
  portPs: number;
  alg: AuthAlg;
  ealg: EncAlg;
  /**
   * SHA-256 (32 bytes) of the Security-Client that asked for this set, in its canonical form
   * (src/secagree/compare.ts): TS 33.203 §7.2 / Annex H want the Security-Client of the REGISTER
   * that arrives over the new set compared with it. The keys (CK, IK) are not kept: once the
   * kernel holds the SAs, nothing here needs them, so they never sit in shared memory.
   */
  clientDigest: Uint8Array;
  createdAt: number;
  /** 0 until protected traffic arrived over this set. */
  confirmedAt: number;
}

export interface Binding {
  state: BindingState;
  aor: string;
  /** The Contact as registered (URI with its header parameters: +sip.instance, feature tags). */
  contactUri: string;
  /** Host and port of the Contact URI (port 5060 when absent), the SEARCH_NORMAL key
   * (kamailio-behaviour.md §3.1). Given by the caller, whose SIP parser owns URI syntax. */
  contactHost: string;
  contactPort: number;
  /** Where the REGISTER came from. */
  receivedAddr: string;
  receivedPort: number;
  transport: Transport;
  /** Via sent-by of the REGISTER. */
  viaHost: string;
  viaPort: number;
  /** Unix seconds. */
  expiresAt: number;
  path: string;
  serviceRoute: string[];
  associatedUris: string[];
  sa?: SaSet;
  /** The old set while a re-registration is in progress. */
  previousSa?: SaSet;
  /** Unix seconds. */
  createdAt: number;
  updatedAt: number;
}

/** A change to a binding: the listed fields replace the stored ones. `sa` or `previousSa` listed
 * with the value undefined removes that set. */
export type BindingPatch = Partial<Binding>;

declare const bindingIdBrand: unique symbol;
/** A stable handle: record slot and generation, so a handle kept after its binding was deleted
 * never reaches the binding that reuses the slot. */
export type BindingId = number & { readonly [bindingIdBrand]: true };

/**
 * Bounds on what one binding may hold, in UTF-8 bytes. Chosen well above real IMS traffic
 * (typical: AOR ~55, Contact with +sip.instance and feature tags ~200, Path ~60, Service-Route
 * entries ~60, P-Associated-URI entries ~55) so that only abuse is refused (FIELD_TOO_LONG), and
 * so that the largest binding's strings stay under 8 KiB.
 */
export const BINDING_LIMITS = {
  /** receivedAddr, contactHost, viaHost: a DNS name is at most 253 bytes (RFC 1035), an IPv6
   * reference 47 with its brackets. */
  hostBytes: 255,
  aorBytes: 256,
  contactUriBytes: 1024,
  pathBytes: 1024,
  serviceRoutes: 4,
  serviceRouteBytes: 512,
  associatedUris: 8,
  associatedUriBytes: 256,
} as const;
