import * as assert from 'uvu/assert';
import { SharedStateError } from '../../src/shared/errors.js';
import type { SharedStateErrorCode } from '../../src/shared/errors.js';

/** Asserts that fn throws a SharedStateError with this code. */
export function throwsCode(fn: () => unknown, code: SharedStateErrorCode): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, SharedStateError);
    assert.is((e as SharedStateError).code, code);
    return;
  }
  assert.unreachable(`expected ${code}`);
}
