// Recognising the TS 33.203 algorithm names in a Security-Client, case-insensitively.

import { AUTH_ALGS, ENC_ALGS, type AuthAlg, type EncAlg } from '../ipsec/algorithms.js';
import { regionEqualsIgnoreCase } from './lexical.js';

/** The canonical name for text[start, end) compared case-insensitively, or null when unknown. */
export function authAlgOf(text: string, start = 0, end = text.length): AuthAlg | null {
  return lookup(AUTH_ALGS, text, start, end);
}

export function encAlgOf(text: string, start = 0, end = text.length): EncAlg | null {
  return lookup(ENC_ALGS, text, start, end);
}

function lookup<T extends string>(names: readonly T[], text: string, start: number, end: number): T | null {
  for (const name of names) if (regionEqualsIgnoreCase(text, start, end, name)) return name;
  return null;
}
