// Recognising the TS 33.203 algorithm names in a Security-Client, case-insensitively.

import { AUTH_ALGS, ENC_ALGS, type AuthAlg, type EncAlg } from '../ipsec/algorithms.js';
import { equalsIgnoreCase } from './lexical.js';

/** The canonical name for `text` compared case-insensitively, or null when unknown. */
export function authAlgOf(text: string): AuthAlg | null {
  return lookup(AUTH_ALGS, text);
}

export function encAlgOf(text: string): EncAlg | null {
  return lookup(ENC_ALGS, text);
}

function lookup<T extends string>(names: readonly T[], text: string): T | null {
  for (const name of names) if (equalsIgnoreCase(text, name)) return name;
  return null;
}
