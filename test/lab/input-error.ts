import * as assert from 'uvu/assert';
import { LabInputError, type LabInputErrorCode } from '../../src/lab/errors.js';

/** Asserts that `fn` throws a LabInputError with this code about this input. */
export function throwsLabInput(fn: () => unknown, code: LabInputErrorCode, field: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, LabInputError);
    assert.is((err as LabInputError).code, code);
    assert.is((err as LabInputError).field, field);
    return;
  }
  assert.unreachable(`no ${code} for ${field}`);
}
