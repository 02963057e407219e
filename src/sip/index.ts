// The SIP message layer: what the rest of the product imports.

export { type AuthHeader, type AuthParam, authParam, parseAuth } from './auth.js';
export { buildAckForNon2xx, buildCancel, buildErrorFromRaw, buildResponse, type ResponseOptions } from './build.js';
export { unquote } from './chars.js';
export { type Contact, parseContact } from './contact.js';
export { type HeaderPosition, MessageEditor } from './edit.js';
export { SipError, type SipErrorCode } from './errors.js';
export { type Framed, StreamFramer } from './framer.js';
export { type HostKind } from './host.js';
export { DEFAULT_SIP_LIMITS, type SipLimits } from './limits.js';
export { type HeaderField, type HeaderValue, type OptionTagHeader, SipMessage } from './message.js';
export { type NameAddr, parseNameAddr } from './name-addr.js';
export { type Param, getParam, parseParams } from './params.js';
export { type ParseOptions, indexMessage, parseMessage } from './parse.js';
export { type OtherUri, type SipUri, type TelUri, type Uri, formatUri, isSipUri, isTelUri, parseUri, unescapeUri, uriParam } from './uri.js';
export { type Via, parseVia } from './via.js';
