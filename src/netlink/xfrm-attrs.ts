// The XFRM netlink attributes (enum xfrm_attr_type_t in include/uapi/linux/xfrm.h) that SAs and
// policies carry (XFRMA_ALG_AUTH, the untruncated view the kernel also reports, is not read),
// with encoders that write a whole attribute (header, struct, padding) and
// decoders that read one found by decodeNlAttrs.

import { encodeNlAttrHeader, nlmsgAlign, type NlAttr } from './nlmsg.js';
import { zeroBytes } from './wire.js';
import {
  decodeXfrmAlgo, decodeXfrmAlgoAead, decodeXfrmAlgoAuth, decodeXfrmUserTmpl, encodeXfrmAddress,
  encodeXfrmAlgo, encodeXfrmAlgoAead, encodeXfrmAlgoAuth, encodeXfrmUserTmpl, SIZEOF_XFRM_ADDRESS, SIZEOF_XFRM_USER_TMPL,
  sizeofXfrmAlgo, sizeofXfrmAlgoAead, sizeofXfrmAlgoAuth, XFRM_ALGO_KEY_MAX,
  type XfrmAlgo, type XfrmAlgoAead, type XfrmAlgoAuth, type XfrmUserTmpl,
} from './xfrm-structs.js';

export const XFRMA_ALG_CRYPT = 2;       // struct xfrm_algo
export const XFRMA_TMPL = 5;            // array of struct xfrm_user_tmpl
export const XFRMA_SRCADDR = 13;        // xfrm_address_t
export const XFRMA_ALG_AEAD = 18;       // struct xfrm_algo_aead
export const XFRMA_ALG_AUTH_TRUNC = 20; // struct xfrm_algo_auth

/** Room an attribute of `payload` bytes takes, padding included. */
export const attrSpace = (payload: number): number => nlmsgAlign(4 + payload);

/** Upper bound of the attribute bytes of one SA with every algorithm attribute and the longest keys. */
export const MAX_SA_ATTR_BYTES = 3 * attrSpace(72 + XFRM_ALGO_KEY_MAX) + attrSpace(SIZEOF_XFRM_ADDRESS);

function finish(buf: Buffer, end: number): number {
  const padded = nlmsgAlign(end);
  zeroBytes(buf, end, padded);
  return padded;
}

export function encodeAttrAlgoAuthTrunc(buf: Buffer, off: number, a: XfrmAlgoAuth): number {
  const p = encodeNlAttrHeader(buf, off, XFRMA_ALG_AUTH_TRUNC, sizeofXfrmAlgoAuth(a));
  return finish(buf, encodeXfrmAlgoAuth(buf, p, a, 'auth'));
}

export function encodeAttrAlgoCrypt(buf: Buffer, off: number, a: XfrmAlgo): number {
  const p = encodeNlAttrHeader(buf, off, XFRMA_ALG_CRYPT, sizeofXfrmAlgo(a));
  return finish(buf, encodeXfrmAlgo(buf, p, a, 'crypt'));
}

export function encodeAttrAlgoAead(buf: Buffer, off: number, a: XfrmAlgoAead): number {
  const p = encodeNlAttrHeader(buf, off, XFRMA_ALG_AEAD, sizeofXfrmAlgoAead(a));
  return finish(buf, encodeXfrmAlgoAead(buf, p, a, 'aead'));
}

export function encodeAttrSrcAddr(buf: Buffer, off: number, family: number, addr: string): number {
  const p = encodeNlAttrHeader(buf, off, XFRMA_SRCADDR, SIZEOF_XFRM_ADDRESS);
  encodeXfrmAddress(buf, p, family, addr, 'saddr');
  return p + SIZEOF_XFRM_ADDRESS;
}

export function encodeAttrTmpls(buf: Buffer, off: number, tmpls: readonly XfrmUserTmpl[]): number {
  let p = encodeNlAttrHeader(buf, off, XFRMA_TMPL, tmpls.length * SIZEOF_XFRM_USER_TMPL);
  for (const t of tmpls) {
    encodeXfrmUserTmpl(buf, p, t);
    p += SIZEOF_XFRM_USER_TMPL;
  }
  return p;
}

export const decodeAttrAlgoAuthTrunc = (buf: Buffer, a: NlAttr): XfrmAlgoAuth => decodeXfrmAlgoAuth(buf, a.offset);
export const decodeAttrAlgoCrypt = (buf: Buffer, a: NlAttr): XfrmAlgo => decodeXfrmAlgo(buf, a.offset);
export const decodeAttrAlgoAead = (buf: Buffer, a: NlAttr): XfrmAlgoAead => decodeXfrmAlgoAead(buf, a.offset);

export function decodeAttrTmpls(buf: Buffer, a: NlAttr): XfrmUserTmpl[] {
  const out: XfrmUserTmpl[] = [];
  for (let p = a.offset; p + SIZEOF_XFRM_USER_TMPL <= a.offset + a.length; p += SIZEOF_XFRM_USER_TMPL) out.push(decodeXfrmUserTmpl(buf, p));
  return out;
}
